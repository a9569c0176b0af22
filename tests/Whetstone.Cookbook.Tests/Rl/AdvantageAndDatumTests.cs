using Whetstone.Chat;
using Whetstone.Cookbook.Rl;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Tests.Rl;

/// <summary>Group-centred advantages and the datums an episode becomes.</summary>
public class AdvantageAndDatumTests
{
    [Fact]
    public void AdvantagesAreRewardsMinusTheGroupMean()
    {
        var advantages = GroupAdvantages.Centered([1, 0, 0, 1, 1, -0.1]);
        double mean = (1 + 0 + 0 + 1 + 1 - 0.1) / 6;
        Assert.Equal(new[] { 1 - mean, -mean, -mean, 1 - mean, 1 - mean, -0.1 - mean }, advantages);
        Assert.Equal(0, advantages.Sum(), 12);
        Assert.True(GroupAdvantages.HasSignal([0, 0, 1]));
        Assert.False(GroupAdvantages.HasSignal([1, 1, 1]));
        Assert.False(GroupAdvantages.HasSignal([1]));
    }

    static Transition Turn(int[] observation, int[] action, double[] logprobs, bool done) =>
        new(new Observation(observation, [99]), action, logprobs, new StepResult(done ? 1 : 0, done, null, new Dictionary<string, double>()));

    [Fact]
    public void SingleTurnDatumTrainsOnlyTheCompletionWithTheSamplersLogprobs()
    {
        var trajectory = new Trajectory([Turn([10, 11, 12], [20, 21, 99], [-0.5, -1.5, -0.25], done: true)]);
        var sequence = Assert.Single(PolicySequence.FromTrajectory(trajectory));
        Assert.Equal(new[] { 10, 11, 12, 20, 21, 99 }, sequence.Tokens);
        var datum = sequence.ToDatum(sequence.Advantages(0.75));

        // The model reads tokens[..^1] and predicts tokens[1..]: prompt positions 11, 12 carry
        // nothing, the three completion targets carry the sampler's logprob and the advantage.
        Assert.Equal(new double[] { 10, 11, 12, 20, 21 }, datum.ModelInput.TextTokens().Select(t => (double)t));
        Assert.Equal(new double[] { 11, 12, 20, 21, 99 }, datum.LossFnInputs["target_tokens"].Data);
        Assert.Equal(new double[] { 0, 0, -0.5, -1.5, -0.25 }, datum.LossFnInputs["logprobs"].Data);
        Assert.Equal(new double[] { 0, 0, 0.75, 0.75, 0.75 }, datum.LossFnInputs["advantages"].Data);
    }

    [Fact]
    public void AMultiTurnEpisodeIsOneDatumWithTheEnvsTokensUntrained()
    {
        var trajectory = new Trajectory(
        [
            Turn([1, 2], [3, 99], [-0.1, -0.2], done: false),
            Turn([1, 2, 3, 99, 7, 8], [4, 99], [-0.3, -0.4], done: true),
        ]);
        var sequence = Assert.Single(PolicySequence.FromTrajectory(trajectory));
        Assert.Equal(new[] { 1, 2, 3, 99, 7, 8, 4, 99 }, sequence.Tokens);
        Assert.Equal(new[] { false, false, true, true, false, false, true, true }, sequence.IsAction);
        var datum = sequence.ToDatum(sequence.Advantages(-1));
        Assert.Equal(new double[] { 0, -0.1f, -0.2f, 0, 0, -0.3f, -0.4f }, datum.LossFnInputs["logprobs"].Data);
        Assert.Equal(new double[] { 0, -1, -1, 0, 0, -1, -1 }, datum.LossFnInputs["advantages"].Data);
    }

    [Fact]
    public void ATurnThatDoesNotExtendTheContextStartsANewSequence()
    {
        var trajectory = new Trajectory(
        [
            Turn([1, 2], [3, 99], [-0.1, -0.2], done: false),
            Turn([5, 6], [4, 99], [-0.3, -0.4], done: true),
        ]);
        var sequences = PolicySequence.FromTrajectory(trajectory);
        Assert.Equal(2, sequences.Count);
        Assert.Equal(new[] { 5, 6, 4, 99 }, sequences[1].Tokens);
    }

    [Fact]
    public void PromptTokensCannotCarryAnAdvantage()
    {
        var sequence = Assert.Single(PolicySequence.FromTrajectory(new Trajectory([Turn([1, 2], [3], [-0.1], done: true)])));
        Assert.Throws<ArgumentException>(() => sequence.ToDatum([0, 1, 1]));
        Assert.Throws<ArgumentException>(() => sequence.ToDatum([0, 0]));
    }

    [Fact]
    public void SampleTrainKlComparesTheSamplersAndTheLearnersLogprobsOnActionTokensOnly()
    {
        var sequence = Assert.Single(PolicySequence.FromTrajectory(new Trajectory([Turn([1, 2], [3, 99], [-1.0, -2.0], done: true)])));
        // Learner logprobs for targets 2, 3, 99; the first is a prompt target and is ignored.
        var output = new ForwardBackwardOutput([new LossFnOutput(new TensorData([-9.0, -1.5, -2.0], "float32"))], new Dictionary<string, double>());
        var (v1, v2) = Whetstone.Cookbook.Rl.RlTrainer.SampleTrainKl([sequence], output);
        Assert.Equal(((-1.0 + 1.5) + 0) / 2, v1, 12);
        Assert.Equal((0.5 * 0.25 + 0) / 2, v2, 12);
    }
}
