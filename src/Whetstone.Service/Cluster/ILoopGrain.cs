using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace Whetstone.Service.Cluster;

/// <summary>The one place a loop is advanced in a cluster (key <c>base_model/loop_id</c>,
/// <see cref="RunGrainKey"/>): one activation cluster-wide per loop, placed like a run on a worker
/// hosting the base model of the loop's deployment, since the loop trains, samples and gates on
/// that model's engine worker. Without it every process's loop runner would advance every loop:
/// the store's compare-and-set (StartLoopIterationAsync) keeps an iteration from starting twice,
/// but a loop already in training, gating or canary is resumed from the store by whoever ticks,
/// so two processes would train the same iteration side by side and finish it twice.</summary>
[Alias("whetstone.loop")]
internal interface ILoopGrain : IGrainWithStringKey
{
    /// <summary>Starts advancing the loop (one <c>LoopIterationJob.AdvanceAsync</c>, in the
    /// background) unless it is being advanced here already; true when it started one.</summary>
    [Alias("advance")] Task<bool> Advance();

    /// <summary>How many times this activation started advancing the loop.</summary>
    [AlwaysInterleave, Alias("advances")] Task<int> Advances();

    [AlwaysInterleave, Alias("where")] Task<SiloAddress> Where();
}
