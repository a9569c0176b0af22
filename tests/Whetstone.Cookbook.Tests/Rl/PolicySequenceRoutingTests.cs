using Whetstone.Cookbook.Rl;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Tests.Rl;

/// <summary>A multi-turn episode's routing: each position takes the experts of the first turn
/// whose sampler ran it (the one that computed the next token's logprob), and the datum carries
/// exactly its input's tokens.</summary>
public class PolicySequenceRoutingTests
{
    static readonly Dictionary<string, double> NoMetrics = new();

    // One layer, k = 1: token t's expert is the value given.
    static RoutedExperts Trace(params int[] experts) => new([3], 1, experts);

    [Fact]
    public void EachPositionTakesTheFirstTurnThatRanIt()
    {
        // Turn 1: observation [1, 2], action [3, 4]; its sampler ran 1, 2, 3 (not 4).
        // Turn 2: observation [1, 2, 3, 4, 5], action [6, 7]; its sampler ran 1..6.
        var first = new Transition(new Observation([1, 2], []), [3, 4], [-0.1, -0.2], new StepResult(0, false, null, NoMetrics)) { Routing = Trace(10, 11, 12) };
        var second = new Transition(new Observation([1, 2, 3, 4, 5], []), [6, 7], [-0.3, -0.4], new StepResult(1, true, null, NoMetrics)) { Routing = Trace(90, 91, 92, 23, 24, 25) };
        var sequence = Assert.Single(PolicySequence.FromTrajectory(new Trajectory([first, second])));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], sequence.Tokens);
        // Positions 0–2 from turn 1 (it sampled token 4 from position 2), 3–5 from turn 2.
        Assert.Equal([10, 11, 12, 23, 24, 25], sequence.Routing!.Experts);

        var datum = sequence.ToDatum(sequence.Advantages(1.0));
        Assert.Equal(6, datum.ModelInput.TextTokens().Count());
        Assert.Equal(sequence.Routing.Experts, datum.RoutedExperts!.Experts);
        Assert.Equal([3], datum.RoutedExperts.Layers);
    }

    [Fact]
    public void ATurnWithoutRoutingLeavesTheSequenceWithout()
    {
        var first = new Transition(new Observation([1, 2], []), [3, 4], [-0.1, -0.2], new StepResult(0, false, null, NoMetrics)) { Routing = Trace(10, 11, 12) };
        var second = new Transition(new Observation([1, 2, 3, 4, 5], []), [6, 7], [-0.3, -0.4], new StepResult(1, true, null, NoMetrics));
        var sequence = Assert.Single(PolicySequence.FromTrajectory(new Trajectory([first, second])));
        Assert.Null(sequence.Routing);
        Assert.Null(sequence.ToDatum(sequence.Advantages(1.0)).RoutedExperts);
    }

    [Fact]
    public void TisCapJoinsTheLossConfig()
    {
        var options = new RlOptions { BaseModel = "m", OutputDirectory = "o", LossFnConfig = new Dictionary<string, double> { ["x"] = 2 }, TisCap = 2.5 };
        Assert.Equal(new Dictionary<string, double> { ["x"] = 2, ["tis_cap"] = 2.5 }, options.TrainingLossConfig());
        Assert.Same(options.LossFnConfig, (options with { TisCap = null }).TrainingLossConfig());
    }
}
