using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Service.Cluster;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>Streamed /v1 through a gateway silo (which hosts no model): the worker's SSE events
/// reach the client while the worker is still decoding, their text is the non-streamed greedy
/// answer, and a worker's death is handled by how far the answer had come (ClusterStreamRelay):
/// before the first token the request goes to another worker, after it the stream ends with a
/// worker_lost error event. The worker is held mid-answer by <see cref="WorkerTokenHold"/>, so
/// nothing depends on timing.</summary>
[Collection(ClusterCollection.Name)]
public class StreamedV1Tests
{
    const int MaxTokens = 48;
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(150);

    // The tiny model's special tokens (end of text, im_start, im_end) are banned, so the greedy
    // answer runs to max_tokens on any CPU's kernels and the holds at tokens 1 and 16 are reached.
    static string Body(bool stream) =>
        $$"""{"model":"{{TestWorkers.ModelA}}","prompt":[5,9,13,17,21],"max_tokens":{{MaxTokens}},"temperature":0,"logit_bias":{"256":-100,"257":-100,"258":-100},"stream":{{(stream ? "true" : "false")}}}""";

    [Fact]
    public async Task ChunksReachTheClientBeforeTheWorkerHasDecodedTheLastTokenAndSpellTheWholeAnswer()
    {
        await using var cluster = await TestWorkers.StartAsync([TestWorkers.ModelA]);
        using var http = await cluster.Gateway.InMemoryClientAsync("gus");
        string whole = await WholeAsync(http);
        Assert.Empty(cluster.Gateway.Context.Models.Names);

        using var hold = new WorkerTokenHold(cluster.WorkerMeterSilos);
        hold.Arm(at: 16);   // the worker blocks before writing its 16th token's chunk, until released
        var stream = await SseStream.OpenAsync(http, Body(stream: true)).WaitAsync(Bound);
        var texts = new List<string>();
        // Relayed whole, this first event could only come after the release below: the wait fails.
        texts.Add(Text(await stream.NextAsync().WaitAsync(Bound) ?? throw new Xunit.Sdk.XunitException("the stream ended before its first event")));
        await hold.Reached.WaitAsync(Bound);   // the worker is at its 16th of 48 tokens: its answer is not finished
        hold.Release();
        while (await stream.NextAsync().WaitAsync(Bound) is { } data && data != "[DONE]") texts.Add(Text(data));
        Assert.True(stream.SawDone, "the stream ended without [DONE]");

        Assert.Equal(whole, string.Concat(texts));
        Assert.True(texts.Count > 1, $"{texts.Count} chunk(s) for {MaxTokens} tokens");
    }

    [Fact]
    public async Task AWorkerDyingBeforeTheFirstTokenIsReplacedAndOneDyingAfterItEndsTheStreamWithAnError()
    {
        await using var cluster = await TestWorkers.StartAsync([TestWorkers.ModelA], [TestWorkers.ModelA]);
        using var http = await cluster.Gateway.InMemoryClientAsync("hal");
        string whole = await WholeAsync(http);
        using var hold = new WorkerTokenHold(cluster.WorkerMeterSilos);

        // Before the first token: the gateway has sent nothing yet (not even the head), and sends
        // the request to the model's other worker.
        hold.Arm(at: 1);
        var opening = SseStream.OpenAsync(http, Body(stream: true));
        string firstTag = await hold.Reached.WaitAsync(Bound);
        var first = cluster.SiloOfMeter(firstTag);
        Assert.False(opening.IsCompleted, "the gateway answered before the worker's first token");
        await cluster.KillAsync(first);
        hold.Release();
        var retried = await opening.WaitAsync(Bound);
        var texts = new List<string>();
        while (await retried.NextAsync().WaitAsync(Bound) is { } data && data != "[DONE]") texts.Add(Text(data));
        Assert.True(retried.SawDone);
        Assert.Equal(whole, string.Concat(texts));

        // After it: the tokens sent stay sent; the stream ends with an error event, no [DONE]. (The
        // killed silo's core is still up in this process, finishing the first request for nobody:
        // only the survivor is watched.)
        string secondTag = Assert.Single(cluster.WorkerMeterSilos, tag => tag != firstTag);
        using var hold2 = new WorkerTokenHold([secondTag]);
        hold2.Arm(at: 16);
        var cut = await SseStream.OpenAsync(http, Body(stream: true)).WaitAsync(Bound);
        Assert.NotNull(Text(await cut.NextAsync().WaitAsync(Bound) ?? throw new Xunit.Sdk.XunitException("no first event")));
        Assert.Equal(secondTag, await hold2.Reached.WaitAsync(Bound));
        var second = cluster.SiloOfMeter(secondTag);
        await cluster.KillAsync(second);
        hold2.Release();
        var events = new List<string>();
        while (await cut.NextAsync().WaitAsync(Bound) is { } data) events.Add(data);
        Assert.False(cut.SawDone, "a cut stream must not end with [DONE]");
        var error = JsonNode.Parse(events[^1])!["error"] ?? throw new Xunit.Sdk.XunitException($"the last event is not an error: {events[^1]}");
        Assert.Equal(ClusterStreamRelay.WorkerLost, error["code"]!.GetValue<string>());
        Assert.Equal("server_error", error["type"]!.GetValue<string>());
        Assert.InRange(events.Count - 1, 0, 14);   // at most the chunks of tokens 2…15 came after the first
    }

    static async Task<string> WholeAsync(HttpClient http)
    {
        using var response = await http.PostAsync("v1/completions", new StringContent(Body(stream: false), Encoding.UTF8, "application/json"));
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, json);
        var choice = JsonNode.Parse(json)!["choices"]![0]!;
        Assert.Equal("length", choice["finish_reason"]!.GetValue<string>());
        return choice["text"]!.GetValue<string>();
    }

    static string Text(string data) => JsonNode.Parse(data)!["choices"]![0]!["text"]!.GetValue<string>();

    /// <summary>A streamed answer read event by event as it arrives.</summary>
    sealed class SseStream(HttpResponseMessage response, StreamReader reader)
    {
        public bool SawDone { get; private set; }

        public static async Task<SseStream> OpenAsync(HttpClient http, string body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.OK) throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new SseStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        /// <summary>The next event's data, or null at the end of the stream.</summary>
        public async Task<string?> NextAsync()
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                string data = line["data: ".Length..];
                if (data == "[DONE]") SawDone = true;
                return data;
            }
            response.Dispose();
            return null;
        }
    }
}
