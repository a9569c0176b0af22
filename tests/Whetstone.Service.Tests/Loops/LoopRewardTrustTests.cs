using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Loops;

namespace Whetstone.Service.Tests.Loops;

/// <summary>The loop uses its reward model's score only above a prequential-accuracy bar.</summary>
public class LoopRewardTrustTests
{
    sealed class FixedRewardModel(int predicted, int correct) : IDeploymentRewardModel
    {
        public int Scored;

        public Task<RewardModelScores?> ScoreAsync(Caller caller, string deployment, IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs,
            CancellationToken cancellationToken)
        {
            Scored++;
            return Task.FromResult<RewardModelScores?>(new RewardModelScores("rm-v3", pairs.Select(p => (double)p.Answer.Count).ToArray()));
        }

        public Task<string?> CatchUpAsync(Caller caller, string deployment, CancellationToken cancellationToken) => Task.FromResult<string?>("rm-v3");

        public Task<(int Predicted, int Correct)> RecentAccuracyAsync(Caller caller, string deployment, int window, CancellationToken cancellationToken) =>
            Task.FromResult((Math.Min(predicted, window), Math.Min(correct, window)));

        public Task<IReadOnlyList<CorrectionExample>> TrainedCorrectionsAsync(Caller caller, string deployment, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<CorrectionExample>>([]);
    }

    static readonly LoopRlSettings Rl = new() { RmWeight = 2, MinRmAccuracy = 0.6, MinRmPredictions = 10, Verifiable = new VerifiableReward { MustContain = "x", Weight = 0.5 } };
    static readonly (IReadOnlyList<int>, IReadOnlyList<int>)[] Pairs = [([1], [7, 8, 9]), ([1], [7])];

    static LoopReward Reward(IDeploymentRewardModel model) =>
        new(model, Rl, answer => answer.Count > 1 ? "x" : "y", new Caller("t", "k", false), "d");

    [Fact]
    public async Task AnAccurateRewardModelIsAddedToTheVerifiableReward()
    {
        var reward = Reward(new FixedRewardModel(predicted: 20, correct: 14));
        var scores = await reward.ScoreAsync(Pairs, CancellationToken.None);
        Assert.Equal(new[] { 0.5 + 2 * 3, 0 + 2 * 1 }, scores);
        Assert.Equal("rm-v3", reward.RmVersion);
        Assert.Equal(0.7, reward.RmAccuracy, 12);
        Assert.True(reward.RmTrusted);
    }

    [Fact]
    public async Task ARewardModelAtChanceOrWithTooFewPredictionsIsNotUsed()
    {
        foreach (var (predicted, correct) in new[] { (20, 11), (9, 9), (0, 0) })
        {
            var model = new FixedRewardModel(predicted, correct);
            var reward = Reward(model);
            var scores = await reward.ScoreAsync(Pairs, CancellationToken.None);
            Assert.Equal(new[] { 0.5, 0 }, scores);
            Assert.Null(reward.RmVersion);
            Assert.False(reward.RmTrusted);
            Assert.Equal(0, model.Scored);
            Assert.Contains("below the bar 0.6", reward.TrustReason);
        }
    }

    [Fact]
    public void TheBarIsInclusiveAndBothBarsAtZeroTrustAnUntriedModel()
    {
        Assert.True(LoopReward.Trusted(10, 6, Rl));
        Assert.False(LoopReward.Trusted(10, 5, Rl));
        Assert.True(LoopReward.Trusted(0, 0, Rl with { MinRmAccuracy = 0, MinRmPredictions = 0 }));
    }

    [Fact]
    public void CorrectionsBecomeCrossEntropyDatumsOnTheCorrectedAnswerOnly()
    {
        var corrections = new[]
        {
            new CorrectionExample("f1", "c1", [1, 2], "old", [5]),
            new CorrectionExample("f2", "c2", [1, 2, 3], "a", [6, 7]),
            new CorrectionExample("f3", "c3", [4], "b", [8, 9]),
        };
        var data = LoopTrainer.CorrectionData(corrections, new LoopRlSettings { CorrectionWindow = 2, CorrectionSftWeight = 0.5 });
        Assert.Equal(2, data.Count);   // the newest two
        Assert.Equal([1, 2, 3, 6], ((EncodedTextChunk)data[0].ModelInput.Chunks[0]).Tokens.ToArray());
        Assert.Equal([2.0, 3, 6, 7], data[0].LossFnInputs["target_tokens"].Data);
        Assert.Equal([0.0, 0, 0.5, 0.5], data[0].LossFnInputs["weights"].Data);
        Assert.Equal([0.5, 0.5], data[1].LossFnInputs["weights"].Data);
    }
}
