using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Moe;

/// <summary>Routing replay through the service and the SDK: a sample asked with include_routing
/// returns its experts as plain ints, and a datum carrying them makes the learner run the
/// sampler's experts, so its logprobs are the sampler's.</summary>
public class RoutingReplayServiceTests
{
    internal const string ModelName = "kimi-tiny-moe";
    internal static readonly Lazy<string> ModelDirectory = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-service-tests", "models", ModelName);
        if (!File.Exists(Path.Combine(directory, "config.json")))
            RandomModelWriter.Write(directory, RandomModelSpec.Preset("kimi-tiny") with { Seed = 5, MaxPositionEmbeddings = 256 });
        return directory;
    });

    static Task<TestHost> StartAsync() =>
        TestHost.InMemoryAsync(TestServers.Options(TestServers.NewDataDirectory()) with { ModelDirectories = [TestServers.Model, ModelDirectory.Value] });

    static Datum Replaying(int[] prompt, SampledSequence sample, RoutedExperts? routing)
    {
        int[] tokens = [.. prompt, .. sample.Tokens];
        return Datums.ForCrossEntropy(tokens) with { RoutedExperts = routing };
    }

    [Fact]
    public async Task LearnerLogprobsWithTheSamplersRoutingEqualTheSamplers()
    {
        await using var server = await StartAsync();
        using var client = await TestServers.ClientAsync(server, "alice");
        var sampler = await client.CreateSamplingClientAsync(baseModel: ModelName);
        int[] prompt = [5, 9, 2, 7];
        var output = await (await sampler.SampleAsync(ModelInput.FromTokens(prompt), 2,
            new SamplingParams { MaxTokens = 6, Temperature = 1.0, Seed = 4 }, includeRouting: true)).ResultAsync();
        foreach (var sample in output.Sequences)
        {
            var routing = sample.RoutedExperts!;
            Assert.Equal([1, 2], routing.Layers);
            Assert.Equal(4, routing.ExpertsPerToken);
            Assert.Equal(prompt.Length + sample.Tokens.Count - 1, routing.TokenCount);
        }

        // A fresh LoRA adapter starts at the base model (B = 0): the learner is the sampler's model.
        var training = await client.CreateLoraTrainingClientAsync(ModelName, rank: 4, seed: 1);
        var data = output.Sequences.Select(s => Replaying(prompt, s, s.RoutedExperts)).ToArray();
        var learned = (await (await training.ForwardAsync(data, "cross_entropy")).ResultAsync()).LossFnOutputs;
        for (int s = 0; s < data.Length; s++)
        {
            var sampled = output.Sequences[s].Logprobs;
            var learner = learned[s].Logprobs.Data;
            for (int j = 0; j < sampled.Count; j++)
                Assert.True(Math.Abs(learner[prompt.Length - 1 + j] - sampled[j]) < 1e-4, $"sample {s} token {j}: learner {learner[prompt.Length - 1 + j]}, sampler {sampled[j]}");
        }

        // The routing really reaches the learner: other experts (each moved by one) give other logprobs.
        var routed = output.Sequences[0].RoutedExperts!;
        var shifted = Replaying(prompt, output.Sequences[0], routed with { Experts = routed.Experts.Select(e => (e + 1) % 16).ToArray() });
        var moved = (await (await training.ForwardAsync([shifted], "cross_entropy")).ResultAsync()).LossFnOutputs[0].Logprobs.Data;
        Assert.True(moved.Zip(learned[0].Logprobs.Data).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
    }

    [Fact]
    public async Task RoutingThatCannotApplyIsA400NamingTheField()
    {
        await using var server = await StartAsync();
        using var client = await TestServers.ClientAsync(server, "bob");
        var dense = await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName);
        var refused = await Assert.ThrowsAsync<WhetstoneApiException>(async () =>
            await (await dense.SampleAsync(ModelInput.FromTokens([5, 6]), 1, new SamplingParams { MaxTokens = 2 }, includeRouting: true)).ResultAsync());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("include_routing", refused.Field);

        var training = await client.CreateLoraTrainingClientAsync(ModelName, rank: 4, seed: 1);
        var tooShort = Datums.ForCrossEntropy([5, 6, 7, 8]) with { RoutedExperts = new RoutedExperts([1, 2], 4, new int[2 * 2 * 4]) };
        refused = await Assert.ThrowsAsync<WhetstoneApiException>(async () => await (await training.ForwardBackwardAsync([tooShort], "cross_entropy")).ResultAsync());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("data[0].routed_experts", refused.Field);
        Assert.Contains("3 × 2 layers × 4 = 24", refused.Message);
    }
}
