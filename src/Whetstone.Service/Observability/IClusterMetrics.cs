namespace Whetstone.Service.Observability;

/// <summary>Where /metrics/cluster gets its silos' series: this server alone, or in a cluster
/// every silo of the membership (<see cref="Cluster.ClusterMetrics"/>).</summary>
internal interface IClusterMetrics
{
    Task<IReadOnlyList<SiloMetricsSnapshot>> SnapshotsAsync(CancellationToken cancellationToken);
}

/// <summary>A server that is no silo: its cluster is itself.</summary>
internal sealed class LocalMetrics(WhetstoneMeter meter) : IClusterMetrics
{
    public Task<IReadOnlyList<SiloMetricsSnapshot>> SnapshotsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SiloMetricsSnapshot>>([meter.Snapshot()]);
}
