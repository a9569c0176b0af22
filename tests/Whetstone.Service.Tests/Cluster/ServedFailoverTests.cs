using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Service.Cluster;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>/v1 in a cluster: the gateway (which hosts no model) relays completions to serving
/// slots placed on the workers of the request's base model. With one of those workers stopped,
/// /v1 keeps answering — the same greedy tokens as before, and as one process with no cluster.</summary>
[Collection(ClusterCollection.Name)]
public class ServedFailoverTests
{
    const string Completion = """{"model":"tiny-qwen3","prompt":[5,9,13,17,21],"max_tokens":6,"temperature":0}""";
    const string Chat = """{"model":"tiny-qwen3","messages":[{"role":"user","content":"hello there"}],"max_tokens":5,"temperature":0}""";

    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task V1AnswersTheSameGreedyTokensWhenAWorkerOfItsModelStops()
    {
        await using var cluster = await TestWorkers.StartAsync([TestWorkers.ModelA], [TestWorkers.ModelA]);
        using var http = await cluster.Gateway.InMemoryClientAsync("fay");

        // Two requests: one per slot (as many slots as workers host the model).
        string text = await AnswerAsync(http, "v1/completions", Completion, "text");
        Assert.Equal(text, await AnswerAsync(http, "v1/completions", Completion, "text"));
        string chat = await AnswerAsync(http, "v1/chat/completions", Chat, "message");
        Assert.Empty(cluster.Gateway.Context.Models.Names);   // the gateway could not have answered itself

        // Reference: one process, no cluster.
        await using (var single = await ServiceCore.CreateAsync(TestWorkers.Options(cluster.DataDirectory, TestWorkers.ModelA)))
        {
            using var alone = await single.InMemoryClientAsync("fay");
            Assert.Equal(text, await AnswerAsync(alone, "v1/completions", Completion, "text"));
            Assert.Equal(chat, await AnswerAsync(alone, "v1/chat/completions", Chat, "message"));
        }

        var slot = cluster.GrainFactory.GetGrain<IServingGrain>(ServingKey.Of(TestWorkers.ModelA, 0));
        var stopped = await slot.Where();
        Assert.Contains(stopped, new[] { cluster.SiloOf(1), cluster.SiloOf(2) });
        await cluster.StopAsync(stopped);

        // Every slot now answers from the surviving worker (after 503s while a slot is placed again).
        for (int i = 0; i < 4; i++) Assert.Equal(text, await AnswerAsync(http, "v1/completions", Completion, "text"));
        Assert.Equal(chat, await AnswerAsync(http, "v1/chat/completions", Chat, "message"));
        Assert.NotEqual(stopped, await slot.Where());
    }

    /// <summary>The first choice's text (completions) or message content (chat), retrying 503s as
    /// a client of the API should.</summary>
    static async Task<string> AnswerAsync(HttpClient http, string route, string body, string field)
    {
        for (int attempt = 0; ; attempt++)
        {
            using var response = await http.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"));
            string json = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 60)
            {
                Assert.Contains("worker_unavailable", json);
                await Task.Delay(500);
                continue;
            }
            Assert.True(response.IsSuccessStatusCode, $"{route}: {(int)response.StatusCode} {json}");
            var choice = JsonNode.Parse(json)!["choices"]![0]!;
            string answer = field == "text" ? choice["text"]!.GetValue<string>() : choice["message"]!["content"]!.GetValue<string>();
            Assert.True(choice["finish_reason"] is not null);
            return answer;
        }
    }
}
