using Orleans;
using Orleans.Concurrency;
using Whetstone.Service.Hosting;
using Whetstone.Service.Observability;

namespace Whetstone.Service.Cluster;

/// <summary>See <see cref="ISiloMetricsGrain"/>. Stateless and reentrant: a snapshot is read from
/// this silo's meter (<see cref="WhetstoneMeter.Snapshot"/>), which serializes collections itself.</summary>
[SiloPinnedPlacement, Reentrant]
internal sealed class SiloMetricsGrain(ServiceCore core) : Grain, ISiloMetricsGrain
{
    public Task<SiloMetricsSnapshot> Snapshot() => Task.FromResult(core.Context.Meter.Snapshot());
}
