using Orleans;
using Orleans.Placement;
using Orleans.Runtime;

namespace Whetstone.Service.Cluster;

/// <summary>Place a run grain on a worker silo that hosts the run's base model, the least loaded
/// one (<see cref="BaseModelPlacementDirector"/> decides).</summary>
[GenerateSerializer, Immutable, Alias("whetstone.base_model_placement")]
public sealed class BaseModelPlacementStrategy : PlacementStrategy
{
    public static readonly BaseModelPlacementStrategy Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class BaseModelPlacementAttribute() : PlacementAttribute(BaseModelPlacementStrategy.Instance);
