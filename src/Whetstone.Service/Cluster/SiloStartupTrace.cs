using Orleans;
using Orleans.Runtime;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Cluster;

/// <summary>Marks each stage of the silo's start in the <see cref="StartupTrace"/>, so the time a
/// silo adds to `whet serve` can be told apart stage by stage.</summary>
internal sealed class SiloStartupTrace : ILifecycleParticipant<ISiloLifecycle>
{
    static readonly (int Stage, string Name)[] Stages =
    [
        (ServiceLifecycleStage.First, "first"),
        (ServiceLifecycleStage.RuntimeInitialize, "runtime initialize"),
        (ServiceLifecycleStage.RuntimeServices, "runtime services"),
        (ServiceLifecycleStage.RuntimeStorageServices, "runtime storage services"),
        (ServiceLifecycleStage.RuntimeGrainServices, "runtime grain services"),
        (ServiceLifecycleStage.AfterRuntimeGrainServices, "after runtime grain services"),
        (ServiceLifecycleStage.ApplicationServices, "application services"),
        (ServiceLifecycleStage.BecomeActive, "become active"),
        (ServiceLifecycleStage.Active, "active"),
    ];

    public void Participate(ISiloLifecycle lifecycle)
    {
        foreach (var (stage, name) in Stages)
            lifecycle.Subscribe<SiloStartupTrace>(stage, _ => { StartupTrace.Mark($"silo stage {stage} ({name}) reached"); return Task.CompletedTask; });
    }
}
