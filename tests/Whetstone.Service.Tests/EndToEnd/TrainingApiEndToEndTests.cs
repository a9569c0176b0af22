using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.EndToEnd;

public class TrainingApiEndToEndTests
{
    static readonly int[][] Sequences =
    [
        [72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100],
        [84, 104, 101, 32, 99, 97, 116, 32, 115, 97, 116],
    ];

    static IReadOnlyList<Datum> Batch() => Sequences.Select(s => Datums.ForCrossEntropy(s)).ToArray();

    /// <summary>Three pipelined SFT steps, save sampler weights, sample greedily from them.</summary>
    static async Task<(double[] Losses, SampleOutput Sample, string SamplerPath)> TrainAndSampleAsync(ServiceClient client)
    {
        var training = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 8, seed: 3);
        var losses = new List<double>();
        for (int step = 0; step < 3; step++)
        {
            // Submitted back to back: one cycle runs the whole step.
            var fb = await training.ForwardBackwardAsync(Batch(), "cross_entropy");
            var optim = await training.OptimStepAsync(new AdamParams { LearningRate = 1e-2 });
            losses.Add((await fb.ResultAsync()).Metrics["loss:sum"]);
            await optim.ResultAsync();
        }
        var saved = await (await training.SaveWeightsForSamplerAsync("after-3")).ResultAsync();
        var sampler = await client.CreateSamplingClientAsync(modelPath: saved.Path);
        var sample = await (await sampler.SampleAsync(ModelInput.FromTokens([72, 101, 108]), 2,
            new SamplingParams { MaxTokens = 8, Temperature = 0, Seed = 1 })).ResultAsync();
        return (losses.ToArray(), sample, saved.Path);
    }

    [Fact]
    public async Task TrainSaveAndSampleOverHttpEqualsTheInMemoryServer()
    {
        await using var server = await TestServers.StartAsync();
        using var http = await TestServers.ClientAsync(server, "alice");
        var overHttp = await TrainAndSampleAsync(http);

        await using var core = await ServiceCore.CreateAsync(TestServers.Options(TestServers.NewDataDirectory()));
        using var inMemory = ServiceClient.Connect(await core.InMemoryClientAsync());
        var local = await TrainAndSampleAsync(inMemory);

        Assert.Equal(local.Losses, overHttp.Losses);
        Assert.True(overHttp.Losses[2] < overHttp.Losses[0], $"loss did not fall: {string.Join(", ", overHttp.Losses)}");
        Assert.Equal(local.Sample.Sequences.Select(s => s.Tokens), overHttp.Sample.Sequences.Select(s => s.Tokens));
        Assert.All(overHttp.Sample.Sequences, s => Assert.True(s.StopReason == "stop" ? s.Tokens.Count <= 8 : s.Tokens.Count == 8));
        Assert.StartsWith("whet://run_", overHttp.SamplerPath);
        Assert.EndsWith("/sampler_weights/after-3", overHttp.SamplerPath);
    }

    [Fact]
    public async Task TwoRunsInTheSameCycleMatchEachRunAlone()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await TestServers.ClientAsync(server, "bob");
        async Task<double[]> Losses(TrainingClient run, int steps, bool submitOnly, List<Task<double>> pending)
        {
            var result = new List<double>();
            for (int i = 0; i < steps; i++)
            {
                var fb = await run.ForwardBackwardAsync(Batch(), "cross_entropy");
                var optim = await run.OptimStepAsync(new AdamParams { LearningRate = 1e-2 });
                var loss = fb.ResultAsync().ContinueWith(t => t.Result.Metrics["loss:sum"]);
                if (submitOnly) pending.Add(loss); else result.Add(await loss);
                if (!submitOnly) await optim.ResultAsync();
            }
            return [.. result];
        }
        // Alone, one after the other.
        var aloneA = await Losses(await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 1), 2, false, []);
        var aloneB = await Losses(await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 2), 2, false, []);
        // Together: both runs' steps queued before any result is awaited.
        var a = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 1);
        var b = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 2);
        var pendingA = new List<Task<double>>();
        var pendingB = new List<Task<double>>();
        await Task.WhenAll(Losses(a, 2, true, pendingA), Losses(b, 2, true, pendingB));
        var togetherA = await Task.WhenAll(pendingA);
        var togetherB = await Task.WhenAll(pendingB);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(aloneA[i], togetherA[i], 1e-3);
            Assert.Equal(aloneB[i], togetherB[i], 1e-3);
        }
        Assert.NotEqual(togetherA[1], togetherB[1]);
    }
}
