using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Memory;

/// <summary>A tenant chatting with a memory over real HTTP (or in memory): one turn per call, each
/// waiting for the memory's background update so the test sees the state the next turn reads.</summary>
internal sealed class MemoryChat(TestHost server, HttpClient http)
{
    public static async Task<MemoryChat> ForAsync(TestHost server, string tenant) =>
        new(server, TestServers.Raw(server, await TestServers.KeyAsync(server, tenant)));

    public HttpClient Http => http;

    /// <summary>One turn; returns the memory id and the answer. Waits for the turn's memory update.</summary>
    public async Task<(string MemoryId, JsonObject Response)> TurnAsync(string? memoryId, string user, int budget = 96, string[]? factKeys = null, int seed = 5)
    {
        var (status, body) = await PostAsync(Request(memoryId, user, budget, factKeys, seed));
        Assert.True(status == 200, $"{status}: {body}");
        string id = (string)body["memory"]!["id"]!;
        await server.Core.Memories.FlushAsync(id);
        return (id, body);
    }

    public static object Request(string? memoryId, string user, int? budget, string[]? factKeys = null, int seed = 5, int n = 1) => new
    {
        model = TestServers.ModelName,
        messages = new[] { new { role = "user", content = user } },
        max_tokens = 6, temperature = 0, seed, n,
        memory = new Dictionary<string, object?> { ["id"] = memoryId, ["budget_tokens"] = budget, ["fact_keys"] = factKeys },
    };

    public async Task<(int Status, JsonObject Body)> PostAsync(object request)
    {
        var response = await http.PostAsync(Routes.OpenAiChatCompletions,
            new StringContent(JsonSerializer.Serialize(request), Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    public async Task<MemoryInfo> GetAsync(string id) =>
        (await http.GetFromJsonAsync<MemoryInfo>(Routes.Memory(id), ProtocolJson.Options))!;

    /// <summary>Small talk and facts, deterministic per index.</summary>
    public static string SmallTalk(int i) => (i % 3) switch
    {
        0 => $"Nice weather today, day {i}.",
        1 => $"I had tea at {i} o'clock.",
        _ => $"Random chat number {i}, nothing much.",
    };
}
