using System.Net;
using System.Text;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>Tinker's sessions through the SDK against a running server: one session per
/// ServiceClient holding the runs and samplers it started once it has its session (a client
/// that never asks for one starts runs outside any), listed newest first with paging, and
/// invisible to other tenants (get is a 404; naming another tenant's session on a new run is a 400
/// that starts nothing).</summary>
public class SessionTests
{
    [Fact]
    public async Task EachClientsSessionHoldsWhatItStartedAndOnlyItsTenantSeesIt()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        string key = await TestServers.KeyAsync(server, "sessions");
        using var first = server.Client(key);
        first.SessionMetadata = new Dictionary<string, string> { ["experiment"] = "sft-vs-rl" };
        string firstId = await first.GetSessionIdAsync();
        var run1 = await first.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 1);
        var run2 = await first.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 2);
        var sampler = await first.CreateSamplingClientAsync(baseModel: TestServers.ModelName);
        Assert.Equal(firstId, await first.GetSessionIdAsync());   // one session per client

        using var second = server.Client(key);
        string secondId = await second.GetSessionIdAsync();
        var run3 = await second.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 3);
        Assert.NotEqual(firstId, secondId);

        var session = await first.GetSessionAsync(firstId);
        Assert.Equal([run1.RunId, run2.RunId], session.TrainingRunIds);
        Assert.Equal([sampler.SessionId], session.SamplerIds);
        Assert.Equal("sft-vs-rl", session.UserMetadata!["experiment"]);
        Assert.Equal([run3.RunId], (await second.GetSessionAsync(secondId)).TrainingRunIds);
        Assert.Empty((await second.GetSessionAsync(secondId)).SamplerIds);

        // A client that never asks for its session files its runs under none (the total below stays 2).
        using var third = server.Client(key);
        await third.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 4);

        // Newest first, paged, with the total in the cursor.
        var page1 = await first.ListSessionsAsync(limit: 1);
        var page2 = await first.ListSessionsAsync(limit: 1, offset: 1);
        Assert.Equal([secondId], page1.Sessions);
        Assert.Equal([firstId], page2.Sessions);
        Assert.Equal(new Cursor(1, 1, 2), page2.Cursor);

        // Another tenant sees none of it, and cannot file a run under it.
        string otherKey = await TestServers.KeyAsync(server, "intruder");
        using var other = server.Client(otherKey);
        Assert.Empty((await other.ListSessionsAsync()).Sessions);
        var hidden = await Assert.ThrowsAsync<WhetstoneApiException>(() => other.GetSessionAsync(firstId));
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        using var raw = server.Raw(otherKey);
        var refused = await raw.PostAsync(Routes.TrainingRuns, new StringContent(
            $$"""{"base_model": "{{TestServers.ModelName}}", "rank": 2, "session_id": "{{firstId}}"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("session_id", await refused.Content.ReadAsStringAsync());
        Assert.Empty((await other.ListTrainingRunsAsync()).Runs);
        Assert.Equal([run1.RunId, run2.RunId], (await first.GetSessionAsync(firstId)).TrainingRunIds);
    }

    [Fact]
    public async Task SamplersATrainingClientOpensAreFiledUnderItsSession()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        string key = await TestServers.KeyAsync(server, "sessions");
        using var client = server.Client(key);
        string sessionId = await client.GetSessionIdAsync();
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 1);
        Assert.Equal(sessionId, run.SessionId);
        var ephemeral = await run.SaveWeightsAndGetSamplingClientAsync();
        string named = (await (await run.SaveWeightsForSamplerAsync("s1")).ResultAsync()).Path;
        var fromPath = await run.CreateSamplingClientAsync(named);
        var fromBase = await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName);

        var session = await client.GetSessionAsync(sessionId);
        Assert.Equal([run.RunId], session.TrainingRunIds);
        Assert.Equal([ephemeral.SessionId, fromPath.SessionId, fromBase.SessionId], session.SamplerIds);

        // A run started outside any session opens its samplers outside any too.
        using var loose = server.Client(key);
        var looseRun = await loose.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 2);
        Assert.Null(looseRun.SessionId);
        await looseRun.SaveWeightsAndGetSamplingClientAsync();
        Assert.Equal([ephemeral.SessionId, fromPath.SessionId, fromBase.SessionId], (await client.GetSessionAsync(sessionId)).SamplerIds);
    }
}
