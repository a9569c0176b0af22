using System.Net;
using System.Text;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Cluster;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>Sampling sessions in a cluster: a session made through one gateway samples through
/// another (neither hosts a model), greedy tokens equal to one process's; after its worker stops
/// it is opened again on the other worker of its model under the same id and samples the same
/// tokens; another tenant cannot see it through either gateway.</summary>
[Collection(ClusterCollection.Name)]
public class ClusterSamplingTests
{
    static readonly SampleRequest Greedy = new(ModelInput.FromTokens([5, 9, 13, 17, 21]), new SamplingParams { MaxTokens = 8, Temperature = 0 });

    [Fact]
    public async Task ASessionMadeThroughOneGatewaySamplesThroughAnotherAndMovesWhenItsWorkerStops()
    {
        // Silo 1 hosts no model: a second gateway.
        await using var cluster = await TestWorkers.StartAsync([], [TestWorkers.ModelA], [TestWorkers.ModelA]);
        using var sdk = await cluster.ClientAsync("sia");
        var sampler = await sdk.CreateSamplingClientAsync(baseModel: TestWorkers.ModelA);
        var first = (await (await sampler.SampleAsync(Greedy.Prompt, 1, Greedy.SamplingParams)).ResultAsync()).Sequences[0].Tokens;
        Assert.Equal(8, first.Count);

        using var other = await cluster.CoreAt(1).InMemoryClientAsync("sia");
        Assert.Empty(cluster.CoreAt(1).Context.Models.Names);
        Assert.Equal(first, await SampleAsync(other, sampler.SessionId));

        // Another tenant: 404 through either gateway, as in one process.
        using var stranger = await cluster.CoreAt(1).InMemoryClientAsync("eve");
        using (var refused = await stranger.PostAsync(Routes.Sample(sampler.SessionId), Json(Greedy)))
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);

        var grain = cluster.GrainFactory.GetGrain<ISamplerGrain>(RunGrainKey.Of(TestWorkers.ModelA, sampler.SessionId));
        var before = await grain.Where();
        await cluster.StopAsync(before);
        Assert.Equal(first, await SampleAsync(other, sampler.SessionId));   // 503s while it moves, then the other worker
        Assert.NotEqual(before, await grain.Where());
        Assert.Equal(first, (await (await sampler.SampleAsync(Greedy.Prompt, 1, Greedy.SamplingParams)).ResultAsync()).Sequences[0].Tokens);

        // Reference: one process, no cluster.
        await using var single = await ServiceCore.CreateAsync(TestWorkers.Options(cluster.DataDirectory, TestWorkers.ModelA));
        using var alone = ServiceClient.Connect(await single.InMemoryClientAsync("sia"));
        var reference = await alone.CreateSamplingClientAsync(baseModel: TestWorkers.ModelA);
        Assert.Equal(first, (await (await reference.SampleAsync(Greedy.Prompt, 1, Greedy.SamplingParams)).ResultAsync()).Sequences[0].Tokens);
    }

    static StringContent Json(object body) => new(JsonSerializer.Serialize(body, ProtocolJson.Options), Encoding.UTF8, "application/json");

    /// <summary>Samples through raw HTTP (the session id is all this gateway is given), retrying
    /// 503s as the SDK does, and waits for the future.</summary>
    static async Task<IReadOnlyList<int>> SampleAsync(HttpClient http, string sessionId)
    {
        for (int attempt = 0; ; attempt++)
        {
            using var response = await http.PostAsync(Routes.Sample(sessionId), Json(Greedy));
            string text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 120)
            {
                await Task.Delay(500);
                continue;
            }
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");
            var future = JsonSerializer.Deserialize<UntypedFuture>(text, ProtocolJson.Options)!;
            for (int poll = 0; poll < 30; poll++)
            {
                var answer = JsonSerializer.Deserialize<FutureResponse>(await http.GetStringAsync(Routes.Future(future.RequestId) + "?timeout_seconds=10"), ProtocolJson.Options)!;
                if (answer.Status == FutureStatus.Done) return answer.Result!.Value.Deserialize<SampleOutput>(ProtocolJson.Options)!.Sequences[0].Tokens;
                Assert.NotEqual(FutureStatus.Failed, answer.Status);
            }
            Assert.Fail("the sample did not finish in 300 s");
        }
    }
}
