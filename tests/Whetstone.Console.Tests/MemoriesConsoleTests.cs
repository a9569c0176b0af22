using System.Globalization;
using System.Text.Json.Nodes;
using Whetstone.Protocol;
using static Microsoft.Playwright.Assertions;

namespace Whetstone.Console.Tests;

/// <summary>The memories page lists the tenant's memories (made through /v1/chat/completions'
/// memory field) and shows one memory's spans, their retention scores and its operation log as
/// GET /api/v1/memories/{id} has them. Another tenant's memory never appears.</summary>
public class MemoriesConsoleTests
{
    const int Budget = 64;

    /// <summary>Chats <paramref name="turns"/> turns into a new memory (the first names the fact
    /// user.city); returns its id.</summary>
    static async Task<string> MemoryAsync(HttpClient http, params string[] turns)
    {
        string? id = null;
        foreach (var user in turns)
        {
            string[] factKeys = id is null ? ["user.city"] : [];
            var answer = await ConsoleServer.PostJsonAsync(http, Routes.OpenAiChatCompletions, new
            {
                model = ConsoleServer.ModelName,
                messages = new[] { new { role = "user", content = user } },
                max_tokens = 6, temperature = 0, seed = 5,
                memory = new Dictionary<string, object?> { ["id"] = id, ["budget_tokens"] = Budget, ["fact_keys"] = factKeys },
            });
            id = (string)answer["memory"]!["id"]!;
        }
        return id!;
    }

    [Fact]
    public async Task TheMemoriesPageShowsTheSpansScoresAndOperationsOfARealMemory()
    {
        await using var browser = await ConsoleBrowser.StartAsync();
        await using var server = await ConsoleServer.StartAsync();
        string key = await server.KeyAsync("mia"), otherKey = await server.KeyAsync("noah");
        using var http = server.Raw(key);
        using var otherHttp = server.Raw(otherKey);
        string id = await MemoryAsync(http, "My city is Lisbon.", "Nice weather today, isn't it?", "I had tea at five.", "Random chat, nothing much.");
        string otherId = await MemoryAsync(otherHttp, "My city is Oslo.");
        // GET waits for the memory's background update: this is the state after all four turns.
        var memory = JsonNode.Parse(await http.GetStringAsync(Routes.Memory(id)))!;
        var spans = memory["spans"]!.AsArray();
        Assert.Equal(4, (int)memory["turn"]!);
        Assert.True(spans.Count >= 2, memory.ToJsonString());

        var page = browser.Page;
        await browser.SignInAsync(server.BaseAddress, key);
        await page.ClickAsync("#nav a:text('Memories')");
        await Expect(page.Locator("#memories tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator($"#memories a:text('{otherId}')")).ToHaveCountAsync(0);
        await page.ClickAsync($"#memories a:text('{id}')");

        await Expect(page.Locator("#memory-turn")).ToHaveTextAsync("4");
        await Expect(page.Locator("#memory-tokens")).ToHaveTextAsync($"{(int)memory["memory_tokens"]!} / {Budget}");
        await Expect(page.Locator("#spans .span-text")).ToHaveCountAsync(spans.Count);
        Assert.Equal(spans.Select(s => (string)s!["text"]!), await page.Locator("#spans .span-text").AllTextContentsAsync());
        var shownScores = (await page.Locator("#spans .retention").AllTextContentsAsync())
            .Select(t => double.Parse(t.Replace(",", ""), CultureInfo.InvariantCulture)).ToArray();
        foreach (var (shown, span) in shownScores.Zip(spans))
        {
            double retention = (double)span!["retention"]!;
            Assert.True(Math.Abs(shown - retention) <= 1e-3 * Math.Max(1, Math.Abs(retention)), $"shown {shown}, stored {retention}");
        }
        // The log, newest first: the page shows every operation the API returned.
        var operations = memory["operations"]!.AsArray().Select(o => (string)o!["operation"]!).Reverse().ToArray();
        await Expect(page.Locator("#operations .operation")).ToHaveCountAsync(operations.Length);
        Assert.Equal(operations, await page.Locator("#operations .operation").AllTextContentsAsync());
        Assert.Contains("add", operations);
        Assert.Contains("score", operations);   // four turns put the budget under pressure: spans were scored
        await browser.ScreenshotAsync("memories");
        browser.AssertNoPageErrors();
    }
}
