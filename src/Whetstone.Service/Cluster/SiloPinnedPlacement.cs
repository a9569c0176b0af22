using Orleans;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Whetstone.Service.Cluster;

/// <summary>Place a grain on the silo its key names (<see cref="SiloAddress.ToParsableString"/>):
/// one activation per silo, for questions only that silo can answer (its own metrics). A silo
/// that is no longer alive gets no activation elsewhere: the call fails instead.</summary>
[GenerateSerializer, Immutable, Alias("whetstone.silo_pinned_placement")]
public sealed class SiloPinnedPlacementStrategy : PlacementStrategy
{
    public static readonly SiloPinnedPlacementStrategy Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacementStrategy.Instance);

internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silo = SiloAddress.FromParsableString(target.GrainIdentity.Key.ToString()!);
        return context.GetCompatibleSilos(target).Contains(silo)
            ? Task.FromResult(silo)
            : throw new SiloGoneException(silo.ToParsableString());
    }
}

/// <summary>The silo a pinned grain belongs to is not alive (dead, stopped or never was).</summary>
[GenerateSerializer, Alias("whetstone.silo_gone")]
public sealed class SiloGoneException(string silo) : Exception($"silo {silo} is not alive")
{
    [Id(0)] public string Silo { get; } = silo;
}
