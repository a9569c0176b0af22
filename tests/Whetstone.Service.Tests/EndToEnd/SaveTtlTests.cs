using System.Net;
using System.Net.Http.Json;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>TTL set at save time, and the ephemeral sampler save behind
/// save_weights_and_get_sampling_client without a name, against a running in-memory server.</summary>
public class SaveTtlTests
{
    static IReadOnlyList<Datum> Batch() => [Datums.ForCrossEntropy([40, 41, 42, 43, 44, 45, 46, 47])];

    [Fact]
    public async Task TtlGivenAtSaveTimeSetsTheExpiryAndTheSweeperDeletesIt()
    {
        var options = TestServers.Options(TestServers.NewDataDirectory()) with { ExpirySweepInterval = TimeSpan.FromMilliseconds(100) };
        // The expiry sweeper runs in the hosted server (not the in-memory core), so this test uses it.
        await using var server = await WhetstoneServer.StartAsync(options);
        using var client = await TestServers.ClientAsync(server, "ttl-owner");
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        var rest = client.CreateRestClient();

        var before = DateTimeOffset.UtcNow;
        var day = (await (await run.SaveStateAsync("day", TimeSpan.FromDays(1))).ResultAsync()).Path;
        var after = DateTimeOffset.UtcNow;
        var expires = (await rest.GetCheckpointAsync(day)).ExpiresAt!.Value;
        Assert.InRange(expires, before.AddDays(1).AddSeconds(-1), after.AddDays(1).AddSeconds(1));
        var kept = (await (await run.SaveStateAsync("kept")).ResultAsync()).Path;
        Assert.Null((await rest.GetCheckpointAsync(kept)).ExpiresAt);

        var brief = (await (await run.SaveWeightsForSamplerAsync("brief", TimeSpan.FromMilliseconds(300))).ResultAsync()).Path;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && (await client.ListCheckpointsAsync(run.RunId)).Checkpoints.Any(c => c.Path == brief)) await Task.Delay(100);
        Assert.Equal([day, kept], (await client.ListCheckpointsAsync(run.RunId)).Checkpoints.Select(c => c.Path));
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<WhetstoneApiException>(() => rest.GetCheckpointAsync(brief))).StatusCode);
    }

    [Fact]
    public async Task BadSaveRequestsAre400sNamingTheFieldAndSaveNothing()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var key = await TestServers.KeyAsync(server, "ttl-bad");
        using var client = server.Client(key);
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        using var raw = TestServers.Raw(server, key);
        async Task Refused(string route, SaveStateRequest body, string field)
        {
            var response = await raw.PostAsync(route, JsonContent.Create(body, options: ProtocolJson.Options));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(field, (await response.Content.ReadFromJsonAsync<ErrorResponse>(ProtocolJson.Options))!.Error.Field);
        }
        await Refused(Routes.SaveState(run.RunId), new SaveStateRequest("neg") { TtlSeconds = -5 }, "ttl_seconds");
        await Refused(Routes.SaveWeightsForSampler(run.RunId), new SaveStateRequest("zero") { TtlSeconds = 0 }, "ttl_seconds");
        await Refused(Routes.SaveState(run.RunId), new SaveStateRequest("huge") { TtlSeconds = 1e12 }, "ttl_seconds");
        await Refused(Routes.SaveState(run.RunId), new SaveStateRequest(null) { Ephemeral = true }, "ephemeral");
        await Refused(Routes.SaveWeightsForSampler(run.RunId), new SaveStateRequest("named") { Ephemeral = true }, "name");
        await Refused(Routes.SaveWeightsForSampler(run.RunId), new SaveStateRequest("ephemeral-mine"), "name");
        await Refused(Routes.SaveState(run.RunId), new SaveStateRequest(null), "name");
        Assert.Empty((await client.ListCheckpointsAsync(run.RunId)).Checkpoints);
        Assert.Empty((await client.ListUserCheckpointsAsync()).Checkpoints);
    }

    [Fact]
    public async Task UnnamedSaveAndSampleIsEphemeralUnlistedExpiringAndSamplesTheTrainedWeights()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        using var client = await TestServers.ClientAsync(server, "ephemeral-owner");
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 3);
        var prompt = ModelInput.FromTokens([40, 41, 42, 43, 44, 45, 46, 47]);
        async Task<double[]> Logprobs(SamplingClient s) =>
            (await (await s.ComputeLogprobsAsync(prompt)).ResultAsync()).Logprobs.Skip(1).Select(l => l!.Value).ToArray();

        var untrained = await Logprobs(await run.SaveWeightsAndGetSamplingClientAsync());
        await (await run.ForwardBackwardAsync(Batch(), "cross_entropy")).ResultAsync();
        await (await run.OptimStepAsync(new AdamParams { LearningRate = 5e-2 })).ResultAsync();
        var ephemeral = await run.SaveWeightsAndGetSamplingClientAsync();
        var named = await run.SaveWeightsAndGetSamplingClientAsync("named");

        // It samples the weights as trained: the same logprobs as a named save, not the untrained ones.
        var trained = await Logprobs(ephemeral);
        var reference = await Logprobs(named);
        for (int i = 0; i < trained.Length; i++) Assert.Equal(reference[i], trained[i], 1e-5);
        Assert.True(trained.Sum() - untrained.Sum() > 1e-3, $"training raised the batch's logprob: {untrained.Sum()} -> {trained.Sum()}");

        // Not listed, named under the reserved prefix, and expiring within the hour.
        Assert.StartsWith($"whet://{run.RunId}/sampler_weights/ephemeral-", ephemeral.ModelPath);
        Assert.Equal(["named"], (await client.ListCheckpointsAsync(run.RunId)).Checkpoints.Select(c => c.Name));
        Assert.Equal(["named"], (await client.ListUserCheckpointsAsync()).Checkpoints.Select(c => c.Name));
        var info = await client.CreateRestClient().GetCheckpointAsync(ephemeral.ModelPath!);
        Assert.InRange(info.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.Null((await client.CreateRestClient().GetCheckpointAsync(named.ModelPath!)).ExpiresAt);

        // Another tenant cannot read it.
        using var other = await TestServers.ClientAsync(server, "ephemeral-stranger");
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<WhetstoneApiException>(() => other.CreateRestClient().GetCheckpointAsync(ephemeral.ModelPath!))).StatusCode);
    }
}
