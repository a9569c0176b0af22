using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Rl;
using Whetstone.Service.Hosting;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Moe;

/// <summary>The RL recipe with routing replay on an MoE model: every datum trains on the
/// sampler's experts and, on policy, the learner's logprobs are the sampler's.</summary>
public class RoutingReplayRecipeTests
{
    sealed class EvenTokenEnv(int[] prompt) : IEnv
    {
        public Observation InitialObservation() => new(prompt, []);

        public StepResult Step(IReadOnlyList<int> action)
        {
            double even = action.Count(t => t % 2 == 0) / (double)Math.Max(1, action.Count);
            return new StepResult(even, true, null, new Dictionary<string, double> { ["correct"] = even >= 0.8 ? 1 : 0, ["format"] = 1 });
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

    [Fact]
    public async Task WithReplayTheLearnerTrainsOnTheSamplersExpertsAndLogprobs()
    {
        var output = TestServers.NewDataDirectory();
        var serverOptions = TestServers.Options(Path.Combine(output, "service")) with { ModelDirectories = [RoutingReplayServiceTests.ModelDirectory.Value] };
        await using var core = await ServiceCore.CreateAsync(serverOptions);
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
        var options = new RlOptions
        {
            BaseModel = RoutingReplayServiceTests.ModelName, OutputDirectory = output, Rank = 4, LearningRate = 1e-2,
            GroupSize = 3, GroupsPerBatch = 2, Steps = 1, MaxTokens = 5, CheckpointEvery = 1, EvalEvery = 0, Seed = 3,
            RoutingReplay = true, TisCap = 2.0,
        };
        await RlRecipe.RunAsync(client, new EvenTokenProblems(), options, _ => { });
        var steps = File.ReadLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonSerializer.Deserialize<Dictionary<string, double>>(l)!)
            .Where(m => m.ContainsKey("reward")).ToList();
        Assert.Single(steps);
        Assert.All(steps, m =>
        {
            Assert.Equal(1.0, m["routing_replayed"]);
            Assert.True(Math.Abs(m["kl_sample_train_v1"]) < 1e-5, $"kl_sample_train_v1 = {m["kl_sample_train_v1"]}");
        });

        // The cap is refused with any other loss before anything runs.
        var error = await Assert.ThrowsAsync<ArgumentException>(() => RlRecipe.RunAsync(client, new EvenTokenProblems(),
            options with { OutputDirectory = TestServers.NewDataDirectory(), LossFn = "ppo" }, _ => { }));
        Assert.Contains("tis cap 2", error.Message);
    }
}
