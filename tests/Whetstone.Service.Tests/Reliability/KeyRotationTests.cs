using System.Net;
using System.Text;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Reliability;

/// <summary>Rotating a tenant's API key with no downtime: the new key works before the old one is
/// revoked, a steady stream of calls (each with whichever key is current) never fails, and calls
/// the old key started — a streamed answer, an accepted future — complete after the revocation.</summary>
public class KeyRotationTests
{
    [Fact]
    public async Task ANewKeyWorksBeforeTheOldIsRevokedAndCallsInFlightWithTheOldKeyComplete()
    {
        await using var server = await TestServers.StartAsync();
        var store = server.Core.Store;
        var (oldRecord, oldKey) = await AdminKeys.CreateAsync(store, "rita", "v1");
        using var oldClient = server.Client(oldKey);
        var run = await oldClient.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 4);

        string current = oldKey;
        int steadyCalls = 0;
        var steadyFailures = new List<string>();
        using var stop = new CancellationTokenSource();
        var steady = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var http = server.Raw(Volatile.Read(ref current));
                var response = await http.GetAsync(Routes.TrainingRun(run.RunId));
                if (response.StatusCode != HttpStatusCode.OK) lock (steadyFailures) steadyFailures.Add($"{(int)response.StatusCode}");
                Interlocked.Increment(ref steadyCalls);
                await Task.Delay(20);
            }
        });

        // In flight with the old key: a streamed answer whose first chunk has arrived, and an accepted training call.
        using var oldRaw = server.Raw(oldKey);
        var streamRequest = new HttpRequestMessage(HttpMethod.Post, Routes.OpenAiCompletions)
        {
            Content = new StringContent(JsonSerializer.Serialize(new { model = TestServers.ModelName, prompt = new[] { 11, 12, 13 }, max_tokens = 120, stream = true, seed = 1, temperature = 1.0 }),
                Encoding.UTF8, "application/json"),
        };
        var stream = await oldRaw.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());
        var accepted = await run.ForwardBackwardAsync([Datums.ForCrossEntropy([5, 6, 7, 8, 9])], "cross_entropy");

        // Rotate: the new key first, used at once (same tenant: it sees the run), then the old one revoked.
        var (_, newKey) = await AdminKeys.CreateAsync(store, "rita", "v2");
        using var newClient = server.Client(newKey);
        Assert.Equal(run.RunId, (await newClient.CreateRestClient().GetTrainingRunAsync(run.RunId)).RunId);
        Volatile.Write(ref current, newKey);
        await Task.Delay(100);   // the steady caller has moved to the new key
        Assert.True(await store.RevokeApiKeyAsync(oldRecord.Id, DateTimeOffset.UtcNow));

        Assert.Equal(HttpStatusCode.Unauthorized, (await oldRaw.GetAsync(Routes.TrainingRun(run.RunId))).StatusCode);
        // The stream started with the old key runs to its end; the accepted call's result is there for the new key.
        var rest = await reader.ReadToEndAsync();
        Assert.Contains("data: [DONE]", rest);
        using var newRaw = server.Raw(newKey);
        var future = System.Text.Json.Nodes.JsonNode.Parse(await newRaw.GetStringAsync(Routes.Future(accepted.RequestId) + "?timeout_seconds=60"))!;
        Assert.Equal("done", (string?)future["status"]);
        Assert.Equal(4, (double)future["result"]!["metrics"]!["tokens:sum"]!);

        await Task.Delay(200);
        stop.Cancel();
        await steady;
        Assert.Empty(steadyFailures);
        Assert.True(steadyCalls >= 5, $"only {steadyCalls} steady calls");
    }
}
