using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>One tenant's view of a test server: the official OpenAI client, raw HTTP for what
/// that client does not expose (n, /v1/completions, the log, feedback), and the training SDK.</summary>
internal sealed class OpenAiTestClient : IDisposable
{
    public string Key { get; }
    public OpenAIClient OpenAi { get; }
    public HttpClient Http { get; }
    public ServiceClient Sdk { get; }

    internal OpenAiTestClient(TestHost server, string key)
    {
        Key = key;
        // The OpenAI client's own pipeline over an HttpClient into the server (Kestrel or in memory).
        OpenAi = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(server.Raw(null)),
        });
        Http = TestServers.Raw(server, key);
        Sdk = server.Client(key);
    }

    public static async Task<OpenAiTestClient> CreateAsync(TestHost server, string tenant) =>
        new(server, await TestServers.KeyAsync(server, tenant));

    public async Task<JsonObject> PostAsync(string path, object body)
    {
        var response = await Http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Status and parsed body of a call expected to fail.</summary>
    public async Task<(int Status, JsonObject Body)> PostFailingAsync(string path, string json)
    {
        var response = await Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    /// <summary>The data lines of an SSE response, [DONE] last.</summary>
    public async Task<List<string>> StreamAsync(string path, object body)
    {
        var response = await Http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.EndsWith("\n\n", text);
        return events.Select(e => e["data: ".Length..]).ToList();
    }

    /// <summary>The served-completion log entry with this id.</summary>
    public async Task<JsonObject> LoggedAsync(string id)
    {
        var list = JsonNode.Parse(await Http.GetStringAsync(Routes.CompletionLog + "?limit=1000"))!["data"]!.AsArray();
        return list.Single(e => (string)e!["id"]! == id)!.AsObject();
    }

    public static int[] Tokens(JsonObject logged, int choice = 0) =>
        logged["choices"]![choice]!["tokens"]!.AsArray().Select(t => (int)t!).ToArray();

    /// <summary>A LoRA run trained one step on its own data and saved for sampling: an adapter
    /// whose output differs from the base model's and from the other seeds'.</summary>
    public async Task<string> TrainedAdapterAsync(int seed, string name = "w")
    {
        var run = await Sdk.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: seed);
        var tokens = Enumerable.Range(0, 16).Select(i => (i * 13 + seed * 31) % 200 + 5).ToArray();
        await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy(tokens)], "cross_entropy")).ResultAsync();
        await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.05 })).ResultAsync();
        return (await (await run.SaveWeightsForSamplerAsync(name)).ResultAsync()).Path;
    }

    public void Dispose()
    {
        Http.Dispose();
        Sdk.Dispose();
    }
}
