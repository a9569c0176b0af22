using System.Collections.Concurrent;
using Orleans;
using Orleans.Runtime;
using Whetstone.Service.Observability;

namespace Whetstone.Service.Cluster;

/// <summary>A gateway's /metrics/cluster: every silo the membership lists as active is asked for
/// its snapshot (<see cref="ISiloMetricsGrain"/>), in parallel, each within <see cref="SiloTimeout"/>.
/// Each silo's series keep their own <c>silo</c> label and are never summed here; a silo that is
/// gateway and worker at once is one silo and one snapshot, so nothing is counted twice.
/// <para>A silo that stops answering (dead, stopped, or too slow this once) keeps its counters and
/// histograms at the values of the last snapshot this gateway read from it, with
/// <c>whetstone_silo_up</c> 0 and no gauges (a dead silo's queue is not "0 deep", it is gone). So
/// sums over silos never go down when a worker dies; what it counted after this gateway's last
/// scrape of it is lost, as for any Prometheus target that dies between scrapes. A silo gone for
/// <see cref="DeadSiloRetention"/> is dropped (Prometheus then sees its series end).</para></summary>
internal sealed class ClusterMetrics(IGrainFactory grains, IClusterMembershipService membership) : IClusterMetrics
{
    public static readonly TimeSpan SiloTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DeadSiloRetention = TimeSpan.FromHours(1);

    readonly ConcurrentDictionary<SiloAddress, (SiloMetricsSnapshot Snapshot, DateTime AnsweredAt)> _last = new();

    public async Task<IReadOnlyList<SiloMetricsSnapshot>> SnapshotsAsync(CancellationToken cancellationToken)
    {
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
        var asked = await Task.WhenAll(active.Select(async silo => (Silo: silo, Snapshot: await AskAsync(silo, cancellationToken))));
        var now = DateTime.UtcNow;
        var snapshots = new List<SiloMetricsSnapshot>();
        var answered = new HashSet<SiloAddress>();
        foreach (var (silo, snapshot) in asked)
        {
            if (snapshot is null) continue;
            _last[silo] = (snapshot, now);
            answered.Add(silo);
            snapshots.Add(snapshot);
        }
        foreach (var (silo, last) in _last)
        {
            if (answered.Contains(silo)) continue;
            if (!active.Contains(silo) && now - last.AnsweredAt > DeadSiloRetention) { _last.TryRemove(silo, out _); continue; }
            snapshots.Add(Unanswered(last.Snapshot));
        }
        // One snapshot per server, should two silos ever share one (the meter's label is the server's).
        return snapshots.DistinctBy(s => s.Silo).ToList();
    }

    async Task<SiloMetricsSnapshot?> AskAsync(SiloAddress silo, CancellationToken cancellationToken)
    {
        try { return await grains.GetGrain<ISiloMetricsGrain>(silo.ToParsableString()).Snapshot().WaitAsync(SiloTimeout, cancellationToken); }
        catch (Exception) when (!cancellationToken.IsCancellationRequested) { return null; }
    }

    /// <summary>A silo's last counters and histograms, its gauges dropped, and <c>whetstone_silo_up</c> 0.</summary>
    internal static SiloMetricsSnapshot Unanswered(SiloMetricsSnapshot last)
    {
        var down = new MetricFamily("whetstone_silo_up", "gauge", "1 while this server answers",
            [new MetricSample("whetstone_silo_up", $"silo=\"{PrometheusExposition.Escape(last.Silo)}\"", 0)]);
        return last with { Families = [.. last.Families.Where(f => f.IsCumulative), down] };
    }
}
