using Whetstone.Cookbook.SimulatedUsers;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Tests;

/// <summary>Arm b of the three-arm experiment freezes its reward model after its first iteration
/// that trained a candidate, not after its first iteration: with 2 corrections in the first window
/// and 32 needed, freezing there left b untrained, equal to a (eighth session).</summary>
public class LoopExperimentArmBTests
{
    static LoopIterationInfo Iteration(int n, string? outcome, string? checkpoint = null) =>
        new(n, outcome is null ? "gating" : "done", DateTimeOffset.UnixEpoch) { Outcome = outcome, PolicyCheckpoint = checkpoint };

    [Fact]
    public void ArmBFreezesAtItsFirstTrainedIterationNotItsFirstFinishedOne()
    {
        var untrained = new LoopLineage("loop", "exp-b", [Iteration(1, "rejected"), Iteration(2, "rejected"), Iteration(3, "failed")]);
        Assert.False(LoopExperiment.FreezesArmB(untrained));   // three finished iterations, none trained: keep learning
        Assert.False(LoopExperiment.FreezesArmB(new LoopLineage("loop", "exp-b", [])));
        // The fourth trained a checkpoint and is still in its gate: its reward model is the one to freeze, before a fifth catches up.
        var trained = untrained with { Iterations = [.. untrained.Iterations, Iteration(4, null, "tinker://run/weights/c4")] };
        Assert.True(LoopExperiment.FreezesArmB(trained));
        // A trained candidate the gate rejected still counts: the freeze is about the reward model, not the promotion.
        Assert.True(LoopExperiment.FreezesArmB(untrained with { Iterations = [Iteration(1, "rejected", "tinker://run/weights/c1")] }));
    }
}
