using Orleans;
using Orleans.Runtime;

namespace Whetstone.Service.Cluster;

/// <summary>See <see cref="IBaseModelDirectoryGrain"/>. A worker counts as hosting a model while
/// its reports keep arriving (within <see cref="Staleness"/>) and, when picked, while the
/// membership lists it alive. Loads are counted as live runs plus the runs placed on it since its
/// last report, so a burst of placements between two reports spreads out.</summary>
internal sealed class BaseModelDirectoryGrain([PersistentState("directory", ClusterStorage.Name)] IPersistentState<DirectoryState> stored)
    : Grain, IBaseModelDirectoryGrain
{
    public static readonly TimeSpan Staleness = TimeSpan.FromSeconds(15);

    sealed class Live
    {
        public DateTimeOffset ReportedAt;
        public int Runs;
        public int Placed;
    }

    readonly Dictionary<SiloAddress, Live> _live = [];

    public async Task Report(SiloAddress worker, string[] baseModels, int liveRuns)
    {
        var live = _live.TryGetValue(worker, out var l) ? l : _live[worker] = new Live();
        live.ReportedAt = DateTimeOffset.UtcNow;
        live.Runs = liveRuns;
        live.Placed = 0;
        string key = worker.ToParsableString();
        var models = baseModels.Order(StringComparer.Ordinal).ToArray();
        if (stored.State.Models.TryGetValue(key, out var known) && known.SequenceEqual(models)) return;
        // Silos that stopped reporting long ago are gone: a restarted worker gets a new address.
        foreach (var stale in stored.State.Models.Keys.Where(k => !_live.Keys.Any(s => s.ToParsableString() == k)).ToList())
            stored.State.Models.Remove(stale);
        stored.State.Models[key] = models;
        await stored.WriteStateAsync();
    }

    public Task<SiloAddress?> Pick(string baseModel, SiloAddress[] candidates)
    {
        var now = DateTimeOffset.UtcNow;
        SiloAddress? best = null;
        int bestLoad = int.MaxValue;
        foreach (var silo in candidates)
        {
            if (!Hosts(silo, baseModel) || !_live.TryGetValue(silo, out var live) || now - live.ReportedAt > Staleness) continue;
            int load = live.Runs + live.Placed;
            // Ties go to the lower address, so placement is reproducible.
            if (load < bestLoad || (load == bestLoad && best is not null && silo.CompareTo(best) < 0)) (best, bestLoad) = (silo, load);
        }
        if (best is not null) _live[best].Placed++;
        return Task.FromResult(best);
    }

    public Task<WorkerLoad[]> Hosts(string baseModel)
    {
        var now = DateTimeOffset.UtcNow;
        return Task.FromResult(_live
            .Where(p => now - p.Value.ReportedAt <= Staleness && Hosts(p.Key, baseModel))
            .Select(p => new WorkerLoad(p.Key, p.Value.Runs, p.Value.Placed))
            .OrderBy(w => w.Worker.ToParsableString(), StringComparer.Ordinal)
            .ToArray());
    }

    public Task<Dictionary<string, string[]>> Known() => Task.FromResult(new Dictionary<string, string[]>(stored.State.Models));

    bool Hosts(SiloAddress silo, string baseModel) =>
        stored.State.Models.TryGetValue(silo.ToParsableString(), out var models) && models.Contains(baseModel);
}
