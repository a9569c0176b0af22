using System.Net;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.EndToEnd;

public class TenantIsolationTests
{
    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task AnotherTenantSeesNothingUntilPublished(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var owner = await TestServers.ClientAsync(server, "owner");
        var strangerKey = await TestServers.KeyAsync(server, "stranger");
        using var stranger = server.Client(strangerKey);
        var run = await owner.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4);
        await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([1, 2, 3, 4])], "cross_entropy")).ResultAsync();
        var state = (await (await run.SaveStateAsync("s1")).ResultAsync()).Path;
        var sampler = (await (await run.SaveWeightsForSamplerAsync("w1")).ResultAsync()).Path;
        var rest = stranger.CreateRestClient();

        async Task NotFound(Func<Task> call)
        {
            var e = await Assert.ThrowsAsync<WhetstoneApiException>(call);
            Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        }
        Assert.DoesNotContain((await rest.ListTrainingRunsAsync()).Runs, r => r.RunId == run.RunId);
        await NotFound(() => rest.GetTrainingRunAsync(run.RunId));
        await NotFound(() => rest.ListCheckpointsAsync(run.RunId));
        await NotFound(() => rest.GetCheckpointAsync(sampler));
        await NotFound(() => stranger.CreateSamplingClientAsync(modelPath: sampler));
        await NotFound(() => stranger.CreateTrainingClientFromStateAsync(state));
        await NotFound(() => rest.DownloadCheckpointAsync(sampler, CheckpointDownloadFormat.Peft));
        await NotFound(() => rest.DeleteCheckpointAsync(sampler));
        await NotFound(() => rest.PublishCheckpointAsync(sampler));
        using (var raw = TestServers.Raw(server, strangerKey))
        {
            var body = new ForwardBackwardRequest([Datums.ForCrossEntropy([1, 2, 3])], "cross_entropy");
            var response = await raw.PostAsync(Routes.ForwardBackward(run.RunId), System.Net.Http.Json.JsonContent.Create(body, options: ProtocolJson.Options));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await raw.PostAsync(Routes.OptimStep(run.RunId), System.Net.Http.Json.JsonContent.Create(new OptimStepRequest(new AdamParams()), options: ProtocolJson.Options))).StatusCode);
        }

        // The owner's checkpoint is untouched, and after publishing the stranger can use it.
        Assert.Equal(sampler, (await owner.CreateRestClient().GetCheckpointAsync(sampler)).Path);
        await owner.CreateRestClient().PublishCheckpointAsync(sampler);
        await owner.CreateRestClient().PublishCheckpointAsync(state);
        var shared = await stranger.CreateSamplingClientAsync(modelPath: sampler);
        var sample = await (await shared.SampleAsync(ModelInput.FromTokens([5, 6, 7]), 1, new SamplingParams { MaxTokens = 3, Temperature = 0 })).ResultAsync();
        Assert.Equal(3, sample.Sequences[0].Tokens.Count);
        var copy = await stranger.CreateTrainingClientFromStateAsync(state);
        Assert.NotEqual(run.RunId, copy.RunId);
        await using (var zip = await rest.DownloadCheckpointAsync(sampler, CheckpointDownloadFormat.Peft))
        {
            using var archive = new System.IO.Compression.ZipArchive(zip);
            Assert.Contains(archive.Entries, e => e.Name == "adapter_model.safetensors");
        }
        // Publishing shares reading, never deleting.
        await NotFound(() => rest.DeleteCheckpointAsync(sampler));
    }
}
