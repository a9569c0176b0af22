using Orleans;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Whetstone.Service.Cluster;

/// <summary>Chooses the silo of a new run grain activation: the base model comes from the grain's
/// key (<see cref="RunGrainKey"/>), the silos alive now from the membership, and the choice among
/// those that host the model from the directory (least loaded). The same path runs when a worker
/// died and its runs' next calls activate them again elsewhere.</summary>
internal sealed class BaseModelPlacementDirector(IGrainFactory grains) : IPlacementDirector
{
    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var (baseModel, _) = RunGrainKey.Parse(target.GrainIdentity.Key.ToString()!);
        var alive = context.GetCompatibleSilos(target);
        var chosen = await grains.GetGrain<IBaseModelDirectoryGrain>(0).Pick(baseModel, alive);
        return chosen ?? throw new NoWorkerException(baseModel);
    }
}

/// <summary>No live worker hosts the base model (all that did have died or none was started).</summary>
[GenerateSerializer, Alias("whetstone.no_worker")]
public sealed class NoWorkerException(string baseModel) : Exception($"no live worker hosts base model '{baseModel}'")
{
    [Id(0)] public string BaseModel { get; } = baseModel;
}
