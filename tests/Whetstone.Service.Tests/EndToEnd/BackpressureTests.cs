using System.Net;
using System.Net.Http.Json;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.EndToEnd;

public class BackpressureTests
{
    [Fact]
    public async Task AFullQueueAnswers429WithRetryAfterAndDropsNothingItAccepted()
    {
        var options = TestServers.Options(TestServers.NewDataDirectory()) with { QueueCapacity = 3 };
        await using var server = await WhetstoneServer.StartAsync(options);
        var key = await TestServers.KeyAsync(server, "heidi");
        using var client = ServiceClient.Connect(new Uri(server.Urls[0]), key);
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        using var raw = TestServers.Raw(server, key);
        var body = new ForwardBackwardRequest([Datums.ForCrossEntropy(Enumerable.Range(1, 60).ToArray())], "cross_entropy");

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
            raw.PostAsync(Routes.Forward(run.RunId), JsonContent.Create(body, options: ProtocolJson.Options))));
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        var accepted = responses.Where(r => r.StatusCode == HttpStatusCode.Accepted).ToList();
        Assert.NotEmpty(refused);
        Assert.NotEmpty(accepted);
        Assert.Equal(24, refused.Count + accepted.Count);
        Assert.All(refused, r => Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero));
        Assert.Equal("queue_full", (await refused[0].Content.ReadFromJsonAsync<ErrorResponse>(ProtocolJson.Options))!.Error.Code);

        // Every accepted call completes.
        foreach (var response in accepted)
        {
            var future = (await response.Content.ReadFromJsonAsync<UntypedFuture>(ProtocolJson.Options))!;
            var result = await raw.GetFromJsonAsync<FutureResponse>(Routes.Future(future.RequestId) + "?timeout_seconds=60", ProtocolJson.Options);
            Assert.Equal(FutureStatus.Done, result!.Status);
        }
        // The SDK retries 429s, so the same flood through it loses nothing.
        var futures = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => run.ForwardAsync(body.Data, "cross_entropy")));
        var results = await Task.WhenAll(futures.Select(f => f.ResultAsync()));
        Assert.Equal(12, results.Length);
        Assert.All(results, r => Assert.Equal(results[0].Metrics["loss:sum"], r.Metrics["loss:sum"]));
    }
}
