using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Memory;

/// <summary>GET /api/v1/memories: the caller's memories (made through /v1/chat/completions), newest
/// first, paged by limit/offset, summarised as GET /api/v1/memories/{id} has them; never another tenant's.</summary>
public class MemoryListTests
{
    [Fact]
    public async Task ListsTheCallersMemoriesNewestFirstPagedAndSummarised()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var alice = await MemoryChat.ForAsync(server, "alice");
        var bob = await MemoryChat.ForAsync(server, "bob");
        var (first, _) = await alice.TurnAsync(null, "My city is Lisbon.");
        (first, _) = await alice.TurnAsync(first, MemoryChat.SmallTalk(1));
        var (second, _) = await alice.TurnAsync(null, MemoryChat.SmallTalk(2));
        var (bobs, _) = await bob.TurnAsync(null, "My secret is 42.");

        var list = await ListAsync(alice.Http, "");
        Assert.Equal([second, first], list.Memories.Select(m => m.Id));
        Assert.Equal(new Cursor(0, ListingRoutes.MaxLimit, 2), list.Cursor);
        var detail = await alice.GetAsync(first);
        var summary = list.Memories[1];
        Assert.Equal((TestServers.ModelName, 96, 2, detail.MemoryTokens, detail.Spans.Count, detail.UpdatedAt),
            (summary.BaseModel, summary.BudgetTokens, summary.Turn, summary.MemoryTokens, summary.SpanCount, summary.UpdatedAt));
        Assert.True(summary.SpanCount >= 1 && summary.MemoryTokens > 0);

        var page = await ListAsync(alice.Http, "?limit=1&offset=1");
        Assert.Equal([first], page.Memories.Select(m => m.Id));
        Assert.Equal(new Cursor(1, 1, 2), page.Cursor);
        Assert.Empty((await ListAsync(alice.Http, "?offset=2")).Memories);
        Assert.Equal([bobs], (await ListAsync(bob.Http, "")).Memories.Select(m => m.Id));

        // The SDK's page: another key of the same tenant sees the same list.
        using var sdk = server.Client(await TestServers.KeyAsync(server, "alice"));
        var sdkPage = await sdk.CreateMemoryChatClient().ListMemoriesAsync(limit: 1);
        Assert.Equal([second], sdkPage.Memories.Select(m => m.Id));
        Assert.Equal(new Cursor(0, 1, 2), sdkPage.Cursor);

        var bad = await alice.Http.GetAsync(ListingRoutes.Memories + "?limit=0");
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Equal("limit", (string?)JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["error"]!["field"]);
    }

    static async Task<MemoryList> ListAsync(HttpClient http, string query) =>
        (await http.GetFromJsonAsync<MemoryList>(ListingRoutes.Memories + query, ProtocolJson.Options))!;
}
