using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Cookbook.Preference;
using Whetstone.Chat;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>The DPO, reward-model and RLHF recipes through the SDK on the tiny test model.</summary>
public class PreferenceRecipeTests
{
    static async Task<(ServiceCore Core, ServiceClient Client)> StartAsync()
    {
        var core = await ServiceCore.CreateAsync(TestServers.Options(TestServers.NewDataDirectory()));
        return (core, ServiceClient.Connect(await core.InMemoryClientAsync()));
    }

    [Fact]
    public async Task DpoRaisesTheMarginOfTheTrainedPairsAndLogsItsMetrics()
    {
        var (core, client) = await StartAsync();
        await using var _ = core;
        var output = TestServers.NewDataDirectory();
        var result = await DpoRecipe.RunAsync(client, HuggingFaceTokenizer.Load(TestServers.Model), new DpoOptions
        {
            BaseModel = TestServers.ModelName, OutputDirectory = output, Rank = 8, LearningRate = 1e-2, BatchPairs = 4,
            Steps = 8, TrainPairs = 4, HeldOutPairs = 4, EvaluateEvery = 4, Seed = 1,
        }, _ => { });
        // At step 0 the policy is the reference: every margin is exactly 0.
        Assert.Equal(0, result.HeldOutBefore.Margin);
        var records = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonSerializer.Deserialize<Dictionary<string, double>>(l)!).ToList();
        Assert.Equal(8, records.Count);
        // The same 4 pairs every step: DPO must fit them.
        Assert.True(records[^1]["loss"] < records[0]["loss"] - 0.1, $"DPO loss {records[0]["loss"]:F4} → {records[^1]["loss"]:F4}");
        Assert.True(records[^1]["margin"] > 0.2);
        Assert.Equal(1.0, records[^1]["accuracy"]);
        Assert.Contains("held_out_margin", records[3].Keys);
        Assert.EndsWith("/sampler_weights/final", result.SamplerPath);
    }

    [Fact]
    public async Task RewardModelRecipeTrainsBothLossesAndRlhfRewardsAreTheRewardModelsScores()
    {
        var (core, client) = await StartAsync();
        await using var _ = core;
        var tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);
        var options = new RewardModelOptions
        {
            BaseModel = TestServers.ModelName, OutputDirectory = TestServers.NewDataDirectory(), Rank = 4, LearningRate = 1e-2,
            BatchPairs = 4, Steps = 4, TrainPairs = 8, HeldOutPairs = 6, EvaluateEvery = 2, Seed = 3,
        };
        var (bt, rm) = await RewardModelRecipe.RunAsync(client, tokenizer, options, _ => { });
        var logisticOptions = options with { Loss = "binary_logistic", OutputDirectory = TestServers.NewDataDirectory() };
        var (logistic, logisticRm) = await RewardModelRecipe.RunAsync(client, tokenizer, logisticOptions, _ => { });
        var renderer = RendererFactory.For(tokenizer);
        var heldOutPairs = PreferenceData.Pairs(options.Seed, heldOut: true).Take(options.HeldOutPairs).ToList();
        foreach (var (r, model, output) in new[] { (bt, rm, options.OutputDirectory), (logistic, logisticRm, logisticOptions.OutputDirectory) })
        {
            Assert.Contains("/weights/final", r.StatePath);
            // The reported held-out accuracy is the share of held-out pairs whose right answer the
            // trained model scores higher, recomputed here from its scores. (On this tiny random
            // model corpus pairs stay at chance, measured 0.45 and 0.42 over 64 pairs; a reward
            // model beating chance on held-out pairs is RewardModelApiTests'.)
            var scores = (await (await model.ScoreAsync(heldOutPairs.SelectMany(p => new[]
                { PreferenceDatums.Sequence(renderer, p.Prompt, p.Chosen), PreferenceDatums.Sequence(renderer, p.Prompt, p.Rejected) }).ToArray())).ResultAsync()).Values;
            Assert.Equal(Enumerable.Range(0, heldOutPairs.Count).Count(p => scores[2 * p] > scores[2 * p + 1]) / (double)heldOutPairs.Count, r.HeldOutAccuracyAfter);
            // Both losses fit what they train on: 8 pairs in batches of 4, so steps 3 and 4 revisit
            // the batches of steps 1 and 2 and their loss must have fallen. Measured (seed 3):
            // bradley_terry 0.696 → 0.680 and 0.687 → 0.634; binary_logistic 0.683 → 0.634 and 0.763 → 0.664.
            var losses = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonSerializer.Deserialize<Dictionary<string, double>>(l)!["loss"]).ToArray();
            Assert.Equal(4, losses.Length);
            Assert.True(losses[2] < losses[0] && losses[3] < losses[1], $"{r.RunId} losses {string.Join(", ", losses.Select(l => l.ToString("F4")))}");
        }
        await Assert.ThrowsAsync<ArgumentException>(() => RewardModelRecipe.RunAsync(client, tokenizer, options with { Loss = "hinge" }, _ => { }));

        // The RLHF env's reward is the reward model's score of the reply; "correct" is the oracle's.
        var example = CorpusGenerator.Generate(9, heldOut: true, [ArithmeticTask.Name]).First();
        foreach (var reply in new[] { example.Messages[^1].Content, "Answer: 1" })
        {
            var env = new RewardModelEnv(renderer, rm, example);
            env.InitialObservation();
            var step = env.Step(tokenizer.Encode(reply + "<|im_end|>"));
            var expected = (await (await rm.ScoreAsync([PreferenceDatums.Sequence(renderer, example.Prompt, reply)])).ResultAsync()).Values[0];
            Assert.Equal(expected, step.Reward);
            Assert.Equal(reply == example.Messages[^1].Content ? 1 : 0, step.Metrics["correct"]);
            Assert.True(step.Done);
        }
    }

    [Fact]
    public async Task RlhfPipelineReportsAWinRateThatAddsUp()
    {
        var (core, client) = await StartAsync();
        await using var _ = core;
        var output = TestServers.NewDataDirectory();
        var result = await RlhfPipeline.RunAsync(client, HuggingFaceTokenizer.Load(TestServers.Model), new RlhfOptions
        {
            BaseModel = TestServers.ModelName, OutputDirectory = output, RewardSteps = 2, RewardTrainPairs = 8, RewardHeldOutPairs = 4,
            RlSteps = 2, Rank = 4, GroupSize = 2, GroupsPerBatch = 2, MaxTokens = 12, WinRateQuestions = 6, RlEvalCount = 4, Seed = 4,
        }, _ => { });
        var w = result.WinRate;
        Assert.Equal(6, w.Questions);
        Assert.Equal(6, w.Wins + w.Losses + w.Ties);
        Assert.Equal((w.Wins + 0.5 * w.Ties) / 6, w.WinRate);
        Assert.True(double.IsFinite(result.MeanRewardSft) && double.IsFinite(result.MeanRewardRlhf));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "rl", "metrics.jsonl")).Count(l => l.Contains("\"reward\"")));
        Assert.True(File.Exists(Path.Combine(output, "summary.json")));
    }
}
