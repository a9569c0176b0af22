using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Rl;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>The RL recipe through the SDK over the in-process transport, on the tiny random model
/// and a task it can learn from scratch: say even-numbered tokens.</summary>
public class RlRecipeTests
{
    /// <summary>Reward = the share of even token ids in a 6-token reply (about ½ for a random
    /// model, so every group has spread), "correct" when at least 5 of 6 are even.</summary>
    sealed class EvenTokenEnv(int[] prompt) : IEnv
    {
        public Observation InitialObservation() => new(prompt, []);

        public StepResult Step(IReadOnlyList<int> action)
        {
            double even = action.Count(t => t % 2 == 0) / (double)Math.Max(1, action.Count);
            return new StepResult(even, true, null, new Dictionary<string, double> { ["correct"] = even >= 5.0 / 6 ? 1 : 0, ["format"] = 1 });
        }
    }

    sealed class EvenTokenProblems : IProblemSource
    {
        public EnvProblem Draw(Random random, bool heldOut)
        {
            var prompt = Enumerable.Range(0, 4).Select(_ => random.Next(1, 250)).ToArray();
            return new EnvProblem(string.Join(' ', prompt), () => new EvenTokenEnv(prompt));
        }
    }

    static RlOptions Options(string output, int steps) => new()
    {
        BaseModel = TestServers.ModelName, OutputDirectory = output, Rank = 8, LearningRate = 5e-2,
        GroupSize = 8, GroupsPerBatch = 4, Steps = steps, MaxTokens = 6, CheckpointEvery = 2, EvalEvery = 0, Seed = 3,
    };

    static async Task<(RlResult Result, List<string> Log, List<Dictionary<string, double>> Metrics)> RunAsync(RlOptions options,
        Action<ServiceCore>? atEnd = null)
    {
        await using var core = await ServiceCore.CreateAsync(TestServers.Options(Path.Combine(options.OutputDirectory, "service")));
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
        var log = new List<string>();
        var result = await RlRecipe.RunAsync(client, new EvenTokenProblems(), options, log.Add);
        atEnd?.Invoke(core);
        var metrics = File.ReadLines(Path.Combine(options.OutputDirectory, "metrics.jsonl"))
            .Select(l => JsonSerializer.Deserialize<Dictionary<string, double>>(l)!).ToList();
        return (result, log, metrics);
    }

    [Fact]
    public async Task AFewStepsRaiseTheRewardOnPolicy()
    {
        var output = TestServers.NewDataDirectory();
        var (result, _, metrics) = await RunAsync(Options(output, steps: 8) with { EvalEvery = 4, EvalCount = 6 });
        var steps = metrics.Where(m => m.ContainsKey("reward")).ToList();
        Assert.Equal(Enumerable.Range(1, 8), steps.Select(m => (int)m["step"]));
        double before = steps.Take(2).Average(m => m["reward"]), after = steps.TakeLast(2).Average(m => m["reward"]);
        Assert.True(after > before + 0.15, $"reward {before:F3} → {after:F3}");
        Assert.True(result.FinalEval!.Reward > result.InitialEval!.Reward, $"greedy held-out reward {result.InitialEval.Reward:F3} → {result.FinalEval.Reward:F3}");
        // As the reward rises the policy concentrates on even tokens: its entropy falls.
        // Measured (seed 3): 5.770 over steps 1–2 → 5.009 over steps 7–8.
        double entropyBefore = steps.Take(2).Average(m => m["entropy"]), entropyAfter = steps.TakeLast(2).Average(m => m["entropy"]);
        Assert.True(entropyAfter < entropyBefore - 0.25, $"entropy {entropyBefore:F3} → {entropyAfter:F3}");
        double lnVocab = Math.Log(Whetstone.Engine.Models.ModelConfig.Load(TestServers.Model).VocabSize);
        foreach (var m in steps)
        {
            Assert.Equal(0, m["staleness"]);
            // On-policy, the learner's logprobs are the sampler's (same weights, same numerics).
            Assert.InRange(m["kl_sample_train_v1"], -1e-3, 1e-3);
            // E[−log q] over the ~190 tokens sampled: positive, and at most ln V in expectation; the
            // Monte-Carlo noise is hundredths (measured 5.783 at step 1 of the near-uniform random
            // model, ln 320 = 5.768).
            Assert.InRange(m["entropy"], 1e-6, lnVocab + 0.1);
            Assert.True(m["tokens_per_second"] > 0);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FullFineTuningSamplesFromItsOwnWeights(bool async)
    {
        var output = TestServers.NewDataDirectory();
        int loadedAtEnd = -1;
        var (_, _, metrics) = await RunAsync(Options(output, steps: 8) with { FullFineTuning = true, LearningRate = 3e-2, Async = async },
            core => loadedAtEnd = core.FullModels.Loaded.Count);
        var steps = metrics.Where(m => m.ContainsKey("reward")).ToList();
        Assert.Equal(8, steps.Count);
        double before = steps.Take(2).Average(m => m["reward"]), after = steps.TakeLast(2).Average(m => m["reward"]);
        Assert.True(after > before + 0.1, $"reward {before:F3} → {after:F3}");
        // Each batch was sampled from the whole model the run saved at that version: on-policy
        // batches have the learner's logprobs exactly, stale ones do not.
        foreach (var m in steps.Where(m => m["staleness"] == 0)) Assert.InRange(m["kl_sample_train_v1"], -1e-3, 1e-3);
        if (async) Assert.Contains(steps, m => m["staleness"] == 1 && Math.Abs(m["kl_sample_train_v1"]) > 1e-4);
        // Superseded samplers' sessions were closed, so the service let go of their models.
        Assert.Equal(1, loadedAtEnd);
    }

    [Fact]
    public async Task AsyncModeSamplesAheadWithinTheStalenessBound()
    {
        var output = TestServers.NewDataDirectory();
        var (_, _, metrics) = await RunAsync(Options(output, steps: 6) with { Async = true, MaxStepsOffPolicy = 1, KlPenalty = 0.05 });
        var steps = metrics.Where(m => m.ContainsKey("reward")).ToList();
        Assert.Equal(6, steps.Count);
        Assert.All(steps, m => Assert.InRange(m["staleness"], 0, 1));
        // The second batch is sampled while the first trains, from the weights before step 1.
        Assert.Equal(1, steps[1]["staleness"]);
        Assert.Equal(0, steps[1]["sampler_version"]);
        Assert.All(steps, m => Assert.Equal(m["step"] - 1 - m["staleness"], m["sampler_version"]));
        // Off-policy batches are trained on weights that moved since they were sampled.
        Assert.Contains(steps, m => m["staleness"] == 1 && Math.Abs(m["kl_sample_train_v1"]) > 1e-4);
        // The KL penalty's reference is the base model: nothing to penalise before the first update.
        Assert.InRange(steps[0]["kl_policy_ref"], -1e-3, 1e-3);
        Assert.Contains(steps, m => Math.Abs(m["kl_policy_ref"]) > 1e-4);
    }

    [Fact]
    public async Task AResumedRunEqualsTheUninterruptedOne()
    {
        // PPO here, so the clipped loss runs through the recipe too.
        var whole = await RunAsync(Options(TestServers.NewDataDirectory(), steps: 4) with { LossFn = "ppo" });

        var output = TestServers.NewDataDirectory();
        await RunAsync(Options(output, steps: 2) with { LossFn = "ppo" });
        var resumed = await RunAsync(Options(output, steps: 4) with { LossFn = "ppo" });
        Assert.Contains(resumed.Log, l => l.StartsWith("resumed from") && l.EndsWith("at step 2"));
        Assert.Equal(4, resumed.Metrics.Count);
        foreach (var (a, b) in whole.Metrics.Zip(resumed.Metrics))
        {
            Assert.Equal(a["step"], b["step"]);
            Assert.Equal(a["reward"], b["reward"]);
            // The same tokens; the loss may differ in the last float bits (the service batches
            // the sample requests as they arrive, and the sampler's logprobs with them).
            Assert.InRange(Math.Abs(a["loss"] - b["loss"]), 0, 1e-6);
        }
        Assert.Equal(whole.Result.LastReward, resumed.Result.LastReward);
    }

    [Fact]
    public async Task InitFromStartsTheRunFromTheSavedPolicy()
    {
        var output = TestServers.NewDataDirectory();
        int[] sequence = [5, 17, 42, 99, 7, 3, 61, 88];
        async Task<double[]> LogprobsAsync(ServiceClient client, string? modelPath)
        {
            var sampler = modelPath is null
                ? await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName)
                : await client.CreateSamplingClientAsync(modelPath: modelPath);
            var computed = await (await sampler.ComputeLogprobsAsync(Whetstone.Protocol.ModelInput.FromTokens(sequence))).ResultAsync();
            return computed.Logprobs.Skip(1).Select(l => l!.Value).ToArray();
        }

        // A "SFT" run that moved its adapter away from the base, then saved its state.
        string statePath, sftSampler;
        double[] baseLogprobs, sftLogprobs;
        await using (var core = await ServiceCore.CreateAsync(TestServers.Options(Path.Combine(output, "service"))))
        {
            using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
            var sft = await client.CreateTrainingClientAsync(new Whetstone.Protocol.CreateTrainingRunRequest(TestServers.ModelName) { Rank = 8, Seed = 1 });
            for (int i = 0; i < 3; i++)
            {
                await (await sft.ForwardBackwardAsync([Datums.ForCrossEntropy(sequence)], "cross_entropy")).ResultAsync();
                await (await sft.OptimStepAsync(new Whetstone.Protocol.AdamParams { LearningRate = 5e-2 })).ResultAsync();
            }
            statePath = (await (await sft.SaveStateAsync("sft")).ResultAsync()).Path;
            sftSampler = (await (await sft.SaveWeightsForSamplerAsync("sft")).ResultAsync()).Path;
            baseLogprobs = await LogprobsAsync(client, null);
            sftLogprobs = await LogprobsAsync(client, sftSampler);
        }
        Assert.True(sftLogprobs.Zip(baseLogprobs).Max(p => Math.Abs(p.First - p.Second)) > 0.1, "the SFT steps should have moved the policy");

        // One RL step at learning rate 0 leaves the weights as loaded: its sampler must be the SFT policy.
        var options = Options(Path.Combine(output, "rl"), steps: 1) with { InitFrom = statePath, LearningRate = 0 };
        await using (var core = await ServiceCore.CreateAsync(TestServers.Options(Path.Combine(output, "service"))))
        {
            using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
            var log = new List<string>();
            var result = await RlRecipe.RunAsync(client, new EvenTokenProblems(), options, log.Add);
            Assert.Contains($"initialised from {statePath}", log);
            var rlLogprobs = await LogprobsAsync(client, result.SamplerPath);
            foreach (var (rl, loaded) in rlLogprobs.Zip(sftLogprobs)) Assert.Equal(loaded, rl, 5);

            var wrongRank = Options(Path.Combine(output, "rl-rank"), steps: 1) with { InitFrom = statePath, Rank = 16 };
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => RlRecipe.RunAsync(client, new EvenTokenProblems(), wrongRank, _ => { }));
            Assert.Contains("rank-8 LoRA", refused.Message);
        }
    }
}
