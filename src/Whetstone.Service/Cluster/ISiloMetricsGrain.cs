using Orleans;
using Whetstone.Service.Observability;

namespace Whetstone.Service.Cluster;

/// <summary>One per silo (keyed and placed by its silo address, <see cref="SiloPinnedPlacementStrategy"/>):
/// that silo's metrics, for a gateway's /metrics/cluster. Workers serve no HTTP, so this is how
/// their series leave them.</summary>
[Alias("whetstone.silo_metrics")]
internal interface ISiloMetricsGrain : IGrainWithStringKey
{
    [Alias("snapshot")] Task<SiloMetricsSnapshot> Snapshot();
}
