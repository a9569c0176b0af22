using System.Net;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>Sampling sessions on a full fine-tuning run's sampler weights: a whole model loaded
/// into its own network, shared per checkpoint, released when its last session closes.</summary>
public class FullModelSamplingTests
{
    static readonly int[] Sequence = [3, 17, 42, 99, 7, 120, 64, 5, 33, 200];

    static async Task<TrainingClient> TrainedFullRunAsync(ServiceClient client, int steps = 3)
    {
        var run = await client.CreateTrainingClientAsync(new CreateTrainingRunRequest(TestServers.ModelName) { FullFineTuning = true, Seed = 1 });
        for (int i = 0; i < steps; i++)
        {
            await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy(Sequence)], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 1e-2 })).ResultAsync();
        }
        return run;
    }

    static async Task<double[]> LogprobsAsync(SamplingClient session) =>
        (await (await session.ComputeLogprobsAsync(ModelInput.FromTokens(Sequence))).ResultAsync()).Logprobs.Skip(1).Select(l => l!.Value).ToArray();

    [Fact]
    public async Task ASessionOnAFullFineTuningCheckpointSamplesExactlyItsWeights()
    {
        await using var core = await ServiceCore.CreateAsync(TestServers.Options(TestServers.NewDataDirectory()));
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync("owner"));
        var run = await TrainedFullRunAsync(client);
        var path = (await (await run.SaveWeightsForSamplerAsync("ft")).ResultAsync()).Path;

        var session = await client.CreateSamplingClientAsync(modelPath: path);
        var sampled = await LogprobsAsync(session);
        var trained = (await (await run.ForwardAsync([Datums.ForCrossEntropy(Sequence)], "cross_entropy")).ResultAsync()).LossFnOutputs[0].Logprobs.Data;
        var basis = await LogprobsAsync(await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName));
        Assert.Equal(trained.Count, sampled.Length);
        for (int t = 0; t < sampled.Length; t++) Assert.InRange(sampled[t] - trained[t], -1e-4, 1e-4);
        // Three steps of cross-entropy on this sequence made it far more likely than the base finds it.
        Assert.True(sampled.Sum() > basis.Sum() + 1, $"Σ log p: fine-tuned {sampled.Sum():F3}, base {basis.Sum():F3}");

        // Sampling goes through the same network: a greedy continuation's logprobs are the model's.
        var prompt = Sequence[..4];
        var sample = (await (await session.SampleAsync(ModelInput.FromTokens(prompt), 1, new SamplingParams { MaxTokens = 5, Temperature = 0 })).ResultAsync()).Sequences[0];
        var whole = prompt.Concat(sample.Tokens).ToArray();
        var scored = (await (await session.ComputeLogprobsAsync(ModelInput.FromTokens(whole))).ResultAsync()).Logprobs;
        for (int i = 0; i < sample.Tokens.Count; i++) Assert.InRange(sample.Logprobs[i] - scored[prompt.Length + i]!.Value, -1e-4, 1e-4);
        var baseSample = (await (await (await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName))
            .SampleAsync(ModelInput.FromTokens(prompt), 1, new SamplingParams { MaxTokens = 5, Temperature = 0 })).ResultAsync()).Sequences[0];
        Assert.NotEqual(baseSample.Logprobs, sample.Logprobs);
    }

    [Fact]
    public async Task OnlyTheOwnerSamplesAFullModelAndBadPathsAreRefusedByName()
    {
        await using var core = await ServiceCore.CreateAsync(TestServers.Options(TestServers.NewDataDirectory()));
        using var owner = ServiceClient.Connect(await core.InMemoryClientAsync("owner"));
        using var stranger = ServiceClient.Connect(await core.InMemoryClientAsync("stranger"));
        var run = await TrainedFullRunAsync(owner, steps: 1);
        var path = (await (await run.SaveWeightsForSamplerAsync("ft")).ResultAsync()).Path;
        var state = (await (await run.SaveStateAsync("state")).ResultAsync()).Path;

        var refused = await Assert.ThrowsAsync<WhetstoneApiException>(() => stranger.CreateSamplingClientAsync(modelPath: path));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Empty(core.FullModels.Loaded);                   // nothing was loaded for the stranger
        foreach (var bad in new[] { "not-a-path", "whet://no-such-run/sampler_weights/x", state })
        {
            var e = await Assert.ThrowsAsync<WhetstoneApiException>(() => owner.CreateSamplingClientAsync(modelPath: bad));
            Assert.True(e.StatusCode is >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError, $"{bad}: {e.StatusCode}");
            if (e.StatusCode == HttpStatusCode.BadRequest) Assert.Equal("model_path", e.Field);
        }
        Assert.Empty(core.FullModels.Loaded);

        // Published, anyone may sample it.
        await owner.CreateRestClient().PublishCheckpointAsync(path);
        var shared = await stranger.CreateSamplingClientAsync(modelPath: path);
        Assert.Equal(await LogprobsAsync(await owner.CreateSamplingClientAsync(modelPath: path)), await LogprobsAsync(shared));
    }

    [Fact]
    public async Task SessionsShareOneModelPerCheckpointWhichTheLastCloseReleases()
    {
        await using var core = await ServiceCore.CreateAsync(TestServers.Options(TestServers.NewDataDirectory()));
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync("owner"));
        var run = await TrainedFullRunAsync(client, steps: 1);
        var paths = new List<string>();
        for (int i = 0; i <= FullModelSamplers.MaxLoadedPerBaseModel; i++)
            paths.Add((await (await run.SaveWeightsForSamplerAsync($"ft-{i}")).ResultAsync()).Path);

        var first = await client.CreateSamplingClientAsync(modelPath: paths[0]);
        var second = await client.CreateSamplingClientAsync(modelPath: paths[0]);
        Assert.Single(core.FullModels.Loaded);
        var others = new List<SamplingClient>();
        for (int i = 1; i < FullModelSamplers.MaxLoadedPerBaseModel; i++) others.Add(await client.CreateSamplingClientAsync(modelPath: paths[i]));
        Assert.Equal(FullModelSamplers.MaxLoadedPerBaseModel, core.FullModels.Loaded.Count);

        // Memory is bounded: one more whole model is refused, naming the field, until a session closes.
        var full = await Assert.ThrowsAsync<WhetstoneApiException>(() => client.CreateSamplingClientAsync(modelPath: paths[^1]));
        Assert.Equal(HttpStatusCode.Conflict, full.StatusCode);
        Assert.Equal("model_path", full.Field);
        Assert.Equal(FullModelSamplers.MaxLoadedPerBaseModel, core.FullModels.Loaded.Count);

        await first.CloseAsync();
        Assert.Equal(FullModelSamplers.MaxLoadedPerBaseModel, core.FullModels.Loaded.Count);   // the second session still uses it
        var closed = await Assert.ThrowsAsync<WhetstoneApiException>(() => first.ComputeLogprobsAsync(ModelInput.FromTokens(Sequence)));
        Assert.Equal(HttpStatusCode.NotFound, closed.StatusCode);
        Assert.Equal(Sequence.Length - 1, (await LogprobsAsync(second)).Length);
        await second.CloseAsync();
        Assert.Equal(FullModelSamplers.MaxLoadedPerBaseModel - 1, core.FullModels.Loaded.Count);
        var last = await client.CreateSamplingClientAsync(modelPath: paths[^1]);
        Assert.Equal(Sequence.Length - 1, (await LogprobsAsync(last)).Length);
        foreach (var session in others.Append(last)) await session.CloseAsync();
        Assert.Empty(core.FullModels.Loaded);
    }

    [Fact]
    public async Task ClosingASessionOverHttpEndsItForItsOwnerOnly()
    {
        await using var server = await TestServers.StartAsync();
        using var owner = await TestServers.ClientAsync(server, "owner");
        var strangerKey = await TestServers.KeyAsync(server, "stranger");
        var run = await TrainedFullRunAsync(owner, steps: 1);
        var path = (await (await run.SaveWeightsForSamplerAsync("ft")).ResultAsync()).Path;
        var session = await owner.CreateSamplingClientAsync(modelPath: path);
        Assert.Single(server.Core.FullModels.Loaded);

        using (var raw = TestServers.Raw(server, strangerKey))
            Assert.Equal(HttpStatusCode.NotFound, (await raw.DeleteAsync(Routes.SamplingSession(session.SessionId))).StatusCode);
        Assert.Equal(Sequence.Length - 1, (await LogprobsAsync(session)).Length);   // the stranger's close changed nothing

        await session.CloseAsync();
        Assert.Empty(server.Core.FullModels.Loaded);
        var gone = await Assert.ThrowsAsync<WhetstoneApiException>(() => session.SampleAsync(ModelInput.FromTokens([1, 2]), 1, new SamplingParams { MaxTokens = 2 }));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<WhetstoneApiException>(() => session.CloseAsync())).StatusCode);
    }
}
