using System.IO.Compression;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Recipes;
using Whetstone.Engine.Models;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>The pretraining recipe through the SDK (full fine-tuning of the tiny test model).</summary>
public class PretrainRecipeTests
{
    static PretrainOptions Options(string output, int steps, int? stopAfter = null) => new()
    {
        StopAfter = stopAfter,
        BaseModel = TestServers.ModelName, OutputDirectory = output, Steps = steps, BatchSize = 2, SequenceLength = 32,
        PeakLearningRate = 3e-3, WarmupSteps = 2, CheckpointEvery = 4, LogEvery = 2, Seed = 3,
    };

    static async Task<(PretrainResult Result, ServiceCore Core)> RunAsync(string output, int steps, int? stopAfter = null)
    {
        var core = await ServiceCore.CreateAsync(TestServers.Options(Path.Combine(output, "service")));
        using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
        var result = await PretrainRecipe.RunAsync(client, HuggingFaceTokenizer.Load(TestServers.Model), Options(output, steps, stopAfter), _ => { });
        return (result, core);
    }

    static double Loss(string line) => JsonDocument.Parse(line).RootElement.GetProperty("loss").GetDouble();

    [Fact]
    public async Task PretrainingLearnsResumesExactlyAndExportsAWholeModel()
    {
        var output = TestServers.NewDataDirectory();
        var (whole, core) = await RunAsync(output, 8);
        await using (core)
        {
            var lines = File.ReadAllLines(Path.Combine(output, "metrics.jsonl"));
            Assert.Equal(4, lines.Length);                                   // logged at steps 2, 4, 6, 8
            Assert.True(Loss(lines[^1]) < Loss(lines[0]), $"{Loss(lines[0])} → {Loss(lines[^1])}");

            using var client = ServiceClient.Connect(await core.InMemoryClientAsync());
            var zip = Path.Combine(output, "model.zip");
            await client.CreateRestClient().DownloadCheckpointToFileAsync(whole.SamplerPath, CheckpointDownloadFormat.Merged, zip);
            var model = Path.Combine(output, "model");
            ZipFile.ExtractToDirectory(zip, model);
            using var loaded = PretrainedModel.Load(model);
            Assert.Equal(ModelFamily.Qwen3, loaded.Config.Family);
            Assert.Equal("bfloat16", loaded.Config.TorchDtype);
            // The sampler weights (in the compute dtype) are also sampled directly, as a whole model of their own.
            var session = await client.CreateSamplingClientAsync(modelPath: whole.SamplerPath);
            var sample = await (await session.SampleAsync(Whetstone.Protocol.ModelInput.FromTokens([1, 2, 3]), 1, new Whetstone.Protocol.SamplingParams { MaxTokens = 4, Temperature = 0 })).ResultAsync();
            Assert.Equal(4, sample.Sequences[0].Tokens.Count);
        }

        // Stopped after 4 of 8 steps and run again: the same data, schedule and weights, the same loss.
        var split = TestServers.NewDataDirectory();
        var (_, firstHalf) = await RunAsync(split, 8, stopAfter: 4);
        await firstHalf.DisposeAsync();
        var (resumed, secondHalf) = await RunAsync(split, 8);
        await secondHalf.DisposeAsync();
        Assert.Equal(whole.FinalLoss, resumed.FinalLoss);
    }
}
