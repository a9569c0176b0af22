using Microsoft.Extensions.Logging;
using Orleans;
using Whetstone.Service.Hosting;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Cluster;

/// <summary>The loop tick of a cluster (one process's LoopRunner ticks in <see cref="WhetstoneServer"/>).
/// One activation for the cluster (key 0), asked by every silo's <see cref="ClusterTicker"/>, so the
/// store is listed at most once per interval however many silos there are; each loop that needs
/// advancing is handed to its <see cref="ILoopGrain"/>, which advances it on one worker.</summary>
[Alias("whetstone.loop_tick")]
internal interface ILoopTickGrain : IGrainWithIntegerKey
{
    /// <summary>Ticks if the last tick is at least <paramref name="interval"/> old; true if it ticked.</summary>
    [Alias("tick_if_due")] Task<bool> TickIfDue(TimeSpan interval);
}

internal sealed class LoopTickGrain(ServiceCore core, ILogger<LoopTickGrain> logger) : Grain, ILoopTickGrain
{
    DateTimeOffset _last = DateTimeOffset.MinValue;
    /// <summary>A loop's base model (that of its deployment's versions), which never changes.</summary>
    readonly Dictionary<string, string> _baseModels = [];

    public async Task<bool> TickIfDue(TimeSpan interval)
    {
        var now = DateTimeOffset.UtcNow;
        if (now - _last < interval) return false;
        _last = now;
        foreach (var loop in await core.Store.ListLoopsAsync(null))
        {
            if (loop.Status != "active" && loop.State == "idle") continue;
            try
            {
                if (await BaseModelAsync(loop) is not { } baseModel) continue;   // nothing deployed yet: nothing to advance
                await GrainFactory.GetGrain<ILoopGrain>(RunGrainKey.Of(baseModel, loop.Id)).Advance();
            }
            catch (Exception e) { logger.LogWarning("loop {Loop}: {Error}", loop.Id, e.Message); }   // e.g. no live worker hosts its model: next tick
        }
        return true;
    }

    async Task<string?> BaseModelAsync(LoopRecord loop)
    {
        if (_baseModels.TryGetValue(loop.Id, out var known)) return known;
        var versions = await core.Store.ListDeploymentVersionsAsync(loop.Tenant, loop.Deployment);
        if (versions.Count == 0) return null;
        var checkpoint = await core.Store.GetCheckpointAsync(versions[0].CheckpointPath);
        var run = checkpoint is null ? null : await core.Store.GetRunAsync(checkpoint.RunId);
        return run is null ? null : _baseModels[loop.Id] = run.BaseModel;
    }
}
