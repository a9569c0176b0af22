using System.IO.Compression;
using System.Net;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.EndToEnd;

public class CheckpointRestTests
{
    static IReadOnlyList<Datum> Batch() => [Datums.ForCrossEntropy([40, 41, 42, 43, 44, 45, 46, 47])];

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task PeftDownloadImportsAsANewRunWithTheSameWeightsAndMergedDownloadIsAFullModel(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await TestServers.ClientAsync(server, "erin");
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 2);
        for (int i = 0; i < 3; i++)
        {
            await run.ForwardBackwardAsync(Batch(), "cross_entropy");
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 1e-2 })).ResultAsync();
        }
        var lossBefore = (await (await run.ForwardAsync(Batch(), "cross_entropy")).ResultAsync()).Metrics["loss:sum"];
        var path = (await (await run.SaveWeightsForSamplerAsync("export")).ResultAsync()).Path;
        var rest = client.CreateRestClient();

        using var peft = new MemoryStream();
        await using (var download = await rest.DownloadCheckpointAsync(path, CheckpointDownloadFormat.Peft)) await download.CopyToAsync(peft);
        peft.Position = 0;
        using (var archive = new ZipArchive(peft, ZipArchiveMode.Read, leaveOpen: true))
            Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], archive.Entries.Select(e => e.Name).Where(n => n != "manifest.json").Order());
        peft.Position = 0;
        var imported = await client.ImportPeftAdapterAsync(TestServers.ModelName, peft);
        Assert.NotEqual(run.RunId, imported.RunId);
        Assert.Equal(4, (await imported.GetInfoAsync()).Rank);
        var lossImported = (await (await imported.ForwardAsync(Batch(), "cross_entropy")).ResultAsync()).Metrics["loss:sum"];
        Assert.Equal(lossBefore, lossImported, 1e-4);

        await using var merged = await rest.DownloadCheckpointAsync(path, CheckpointDownloadFormat.Merged);
        using var mergedArchive = new ZipArchive(merged);
        var names = mergedArchive.Entries.Select(e => e.Name).ToHashSet();
        Assert.Contains("config.json", names);
        Assert.Contains("model.safetensors", names);
        Assert.Contains("tokenizer.json", names);
    }

    [Fact]
    public async Task CheckpointPastItsTtlIsDeleted()
    {
        var options = TestServers.Options(TestServers.NewDataDirectory()) with { ExpirySweepInterval = TimeSpan.FromMilliseconds(100) };
        await using var server = await WhetstoneServer.StartAsync(options);
        using var client = await TestServers.ClientAsync(server, "frank");
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        var keep = (await (await run.SaveStateAsync("keep")).ResultAsync()).Path;
        var brief = (await (await run.SaveStateAsync("brief")).ResultAsync()).Path;
        var rest = client.CreateRestClient();
        await rest.SetCheckpointTtlAsync(brief, TimeSpan.FromMilliseconds(200));
        Assert.NotNull((await rest.GetCheckpointAsync(brief)).ExpiresAt);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && (await rest.ListCheckpointsAsync(run.RunId)).Checkpoints.Any(c => c.Path == brief))
            await Task.Delay(100);
        var error = await Assert.ThrowsAsync<WhetstoneApiException>(() => rest.GetCheckpointAsync(brief));
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(options.DataDirectory, "checkpoints", run.RunId, "weights", "brief")));
        Assert.Equal(keep, (await rest.GetCheckpointAsync(keep)).Path);
        Assert.True(Directory.Exists(Path.Combine(options.DataDirectory, "checkpoints", run.RunId, "weights", "keep")));
    }

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task UsageCountsTrainedPrefillAndSampledTokensAndCyclesAreReported(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await TestServers.ClientAsync(server, "grace");
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        await (await run.ForwardBackwardAsync(Batch(), "cross_entropy")).ResultAsync();
        var sampler = await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName);
        var sample = await (await sampler.SampleAsync(ModelInput.FromTokens([1, 2, 3, 4, 5]), 2, new SamplingParams { MaxTokens = 6, Temperature = 0 })).ResultAsync();
        var rest = client.CreateRestClient();
        // Accounting is written as calls finish; give the store a moment.
        UsageInfo key = new();
        for (int i = 0; i < 50 && key.SampledTokens == 0; i++) { await Task.Delay(50); key = await rest.GetUsageAsync(); }
        var runUsage = await rest.GetRunUsageAsync(run.RunId);
        Assert.Equal(7, runUsage.TrainedTokens);                      // 8 tokens → 7 predicted
        Assert.True(runUsage.ComputeSeconds > 0);
        Assert.Equal(7, key.TrainedTokens);
        Assert.Equal(5, key.PrefillTokens);
        Assert.Equal(sample.Sequences.Sum(s => s.Tokens.Count), key.SampledTokens);
        // Scheduler metrics span all tenants: admins only.
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAsync<WhetstoneApiException>(() => rest.GetMetricsAsync())).StatusCode);
        using var admin = server.Client(TestServers.AdminKey);
        var metrics = await admin.CreateRestClient().GetMetricsAsync();
        var model = Assert.Single(metrics.BaseModels);
        Assert.Contains(model.RecentCycles, c => c.LearnerCalls == 1 && c.TrainedTokens == 7);
        Assert.Contains(model.RecentCycles, c => c.SampleCalls == 1);
        Assert.InRange(model.Utilisation, 1e-6, 1.0);
        Assert.Equal(0, model.QueueDepth);
    }
}
