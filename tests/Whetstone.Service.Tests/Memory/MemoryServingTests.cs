using Whetstone.Protocol;
using Whetstone.Service.Memory;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Memory;

/// <summary>Memory Diffusion through /v1/chat/completions' memory field, on a real server with the
/// tiny test model (context 256): the budget invariant, verbatim spans, knowledge updates, the O(B)
/// turn on token counts, durability, tenancy, bad input and same-seed replays.</summary>
public class MemoryServingTests
{
    const int Budget = 96;

    [Fact]
    public async Task LongConversationStaysWithinBudgetAndKeptSpansAreVerbatim()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var chat = await MemoryChat.ForAsync(server, "alice");
        string? id = null;
        MemoryInfo? before = null;
        for (int turn = 1; turn <= 10; turn++)
        {
            (id, _) = await chat.TurnAsync(id, MemoryChat.SmallTalk(turn), Budget);
            var memory = await chat.GetAsync(id);
            Assert.Equal(turn, memory.Turn);
            Assert.True(memory.MemoryTokens <= Budget, $"turn {turn}: {memory.MemoryTokens} tokens > budget {Budget}");
            Assert.Equal(memory.MemoryTokens, memory.Spans.Sum(s => s.Tokens.Count));
            if (before is not null)
                foreach (var kept in memory.Operations.Where(o => o.Turn == turn && o.Operation == "keep"))
                    Assert.Equal(before.Spans.Single(s => s.Id == kept.SpanId).Tokens, memory.Spans.Single(s => s.Id == kept.SpanId).Tokens);
            before = memory;
        }
        // The budget was under pressure: old spans were compressed or dropped, and compressed spans are shorter than what they replaced.
        var ops = before!.Operations;
        Assert.Contains(ops, o => o.Operation is "compress" or "drop");
        Assert.Contains(ops, o => o.Operation == "keep");
        Assert.All(before.Spans.Where(s => s.Form != "verbatim"), s => Assert.Contains(s.Edits, e => e.Contains("compressed")));
    }

    [Fact]
    public async Task WorkPerTurnDoesNotGrowWithHistory()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var chat = await MemoryChat.ForAsync(server, "alice");
        var policy = server.Core.Memories.Policy;
        string? id = null;
        var work = new List<MemoryTurnWorkInfo>();
        int historyTokens = 0;
        for (int turn = 1; turn <= 16; turn++)
        {
            (id, _) = await chat.TurnAsync(id, MemoryChat.SmallTalk(turn) + " " + MemoryChat.SmallTalk(turn + 1), Budget);
            var memory = await chat.GetAsync(id);
            work.Add(memory.LastTurnWork!);
            historyTokens += memory.Spans.Where(s => s.OriginTurn == turn).Sum(s => s.Tokens.Count);   // the turn's lines (user, answer): the newest are never dropped
        }
        Assert.True(historyTokens > 4 * Budget, $"the history ({historyTokens} tokens) should be several budgets long");
        // Scoring: one pass over memory + probe, one per span without it; every pass ≤ B + probe tokens.
        int scoringBound = policy.MaxSpans * (Budget + policy.MaxProbeTokens);
        const int context = 256;   // refill prompts and the answer prompt fit the model's context
        foreach (var (w, turn) in work.Select((w, i) => (w, i + 1)))
        {
            Assert.True(w.ScoringCalls <= policy.MaxSpans, $"turn {turn}: {w.ScoringCalls} scoring passes");
            Assert.True(w.ScoringTokens <= scoringBound, $"turn {turn}: scoring {w.ScoringTokens} > {scoringBound}");
            Assert.True(w.AnswerPromptTokens <= context, $"turn {turn}: answer prompt {w.AnswerPromptTokens}");
            Assert.True(w.RefillPromptTokens + w.RefillGeneratedTokens <= policy.MaxSpans * context, $"turn {turn}: refill {w.RefillPromptTokens}");
        }
        // Flat, not merely bounded: the later turns (history twice as long) cost on average what the earlier ones did, within the goal's 1.2x.
        // (Single turns vary with the number of spans the allocator left, 2–5 here; that number depends on B, not on the history.)
        double early = work.Skip(4).Take(6).Average(w => w.TotalTokens), late = work.Skip(10).Average(w => w.TotalTokens);
        Assert.True(late <= 1.2 * early, $"late turns average {late:F0} tokens, early turns {early:F0}: " + string.Join(", ", work.Select(w => $"{w.TotalTokens}/{w.ScoringCalls}")));
    }

    [Fact]
    public async Task UpdatedFactKeepsOnlyItsLatestValueAndTheNextAnswerReadsIt()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var chat = await MemoryChat.ForAsync(server, "alice");
        var (id, _) = await chat.TurnAsync(null, "My city is Lisbon.", Budget, ["user.city"]);
        (id, _) = await chat.TurnAsync(id, MemoryChat.SmallTalk(1), Budget);
        (id, _) = await chat.TurnAsync(id, "I moved. My city is Oslo now.", Budget, ["user.city"]);
        var memory = await chat.GetAsync(id);
        string text = string.Concat(memory.Spans.Select(s => s.Text));
        Assert.Contains("Oslo", text);
        Assert.DoesNotContain("Lisbon", text);
        Assert.Contains(memory.Operations, o => o.Operation == "supersede" && o.SpanId == "t1.1" && o.Turn == 3);
        Assert.Equal(["user.city"], memory.Spans.Single(s => s.Id == "t3.1").FactKeys);
        Assert.Empty(memory.Spans.Single(s => s.Id == "t3.2").FactKeys);   // the model's answer states no fact of the user's

        // The oracle pipeline: the reader answers from a prompt that holds the memory; the next turn's prompt has the latest value only.
        var (_, answer) = await chat.TurnAsync(id, "Where do I live?", Budget);
        var logged = await LoggedPromptAsync(chat, (string)answer["id"]!);
        Assert.Contains("My city is Oslo now.", logged);
        Assert.DoesNotContain("Lisbon", logged);
    }

    [Fact]
    public async Task MemorySurvivesARestart()
    {
        string data = TestServers.NewDataDirectory();
        string id;
        MemoryInfo before;
        await using (var server = await TestServers.StartAsync(data, Transport.InMemory))
        {
            var chat = await MemoryChat.ForAsync(server, "alice");
            (id, _) = await chat.TurnAsync(null, "My dog is called Rex.", 160, ["user.dog"]);
            (id, _) = await chat.TurnAsync(id, MemoryChat.SmallTalk(2), 160);
            before = await chat.GetAsync(id);
        }
        await using (var server = await TestServers.StartAsync(data, Transport.InMemory))
        {
            var chat = await MemoryChat.ForAsync(server, "alice");
            var after = await chat.GetAsync(id);
            Assert.Equal(before.Turn, after.Turn);
            Assert.Equal(before.Spans.Select(s => s.Tokens), after.Spans.Select(s => s.Tokens));
            Assert.Equal(before.Spans.Select(s => s.Retention), after.Spans.Select(s => s.Retention));
            Assert.Equal(before.Operations.Select(o => (o.Sequence, o.Operation, o.Detail)), after.Operations.Select(o => (o.Sequence, o.Operation, o.Detail)));
            var (_, answer) = await chat.TurnAsync(id, "What is my dog called?", 160);
            Assert.Contains("My dog is called Rex.", await LoggedPromptAsync(chat, (string)answer["id"]!));
            Assert.Equal(3, (await chat.GetAsync(id)).Turn);
        }
    }

    [Fact]
    public async Task TenantsCannotSeeUseOrDeleteEachOthersMemories()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var alice = await MemoryChat.ForAsync(server, "alice");
        var bob = await MemoryChat.ForAsync(server, "bob");
        var (id, _) = await alice.TurnAsync(null, "My secret is 1234.", Budget);

        Assert.Equal(404, (int)(await bob.Http.GetAsync(Routes.Memory(id))).StatusCode);
        Assert.Equal(404, (int)(await bob.Http.DeleteAsync(Routes.Memory(id))).StatusCode);
        var (status, body) = await bob.PostAsync(MemoryChat.Request(id, "What is the secret?", Budget));
        Assert.Equal(400, status);
        Assert.Equal("memory.id", (string)body["error"]!["param"]!);
        Assert.Equal(1, (await alice.GetAsync(id)).Turn);   // untouched by bob's attempts

        Assert.Equal(204, (int)(await alice.Http.DeleteAsync(Routes.Memory(id))).StatusCode);
        Assert.Equal(404, (int)(await alice.Http.GetAsync(Routes.Memory(id))).StatusCode);
        (status, body) = await alice.PostAsync(MemoryChat.Request(id, "Hello?", Budget));
        Assert.Equal(400, status);
        Assert.Equal("memory.id", (string)body["error"]!["param"]!);
    }

    [Theory]
    [InlineData(0, "memory.budget_tokens", "must be positive")]
    [InlineData(-5, "memory.budget_tokens", "must be positive")]
    [InlineData(4, "memory.budget_tokens", "smaller than this turn")]
    [InlineData(250, "memory.budget_tokens", "leaves no room")]
    [InlineData(null, "memory.budget_tokens", "is required")]
    public async Task BadMemoryFieldsAreRefusedByName(int? budget, string field, string reason)
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var chat = await MemoryChat.ForAsync(server, "alice");
        var (status, body) = await chat.PostAsync(MemoryChat.Request(null, "A message of a few tokens.", budget));
        Assert.Equal(400, status);
        Assert.Equal(field, (string)body["error"]!["param"]!);
        Assert.Contains(reason, (string)body["error"]!["message"]!);
    }

    [Fact]
    public async Task ARequestRefusedAfterTheMemoryFieldCreatesNoMemory()
    {
        string data = TestServers.NewDataDirectory();
        await using var server = await TestServers.StartAsync(data, Transport.InMemory);
        var chat = await MemoryChat.ForAsync(server, "alice");
        // Budget and turn are fine, but max_tokens does not fit the context: refused by the sampler's check, after the memory was opened.
        var (status, body) = await chat.PostAsync(new
        {
            model = TestServers.ModelName, messages = new[] { new { role = "user", content = "Hi." } }, max_tokens = 10_000,
            memory = new { budget_tokens = Budget },
        });
        Assert.Equal(400, status);
        Assert.Equal("max_tokens", (string)body["error"]!["param"]!);
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data, "whetstone.db")}");
        await db.OpenAsync();
        await using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM memories";
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task UnknownMemoryIdAndSeveralChoicesAreRefusedByName()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var chat = await MemoryChat.ForAsync(server, "alice");
        var (status, body) = await chat.PostAsync(MemoryChat.Request("mem_nope", "Hi.", Budget));
        Assert.Equal((400, "memory.id"), (status, (string)body["error"]!["param"]!));
        (status, body) = await chat.PostAsync(MemoryChat.Request(null, "Hi.", Budget, n: 2));
        Assert.Equal((400, "n"), (status, (string)body["error"]!["param"]!));
    }

    [Fact]
    public async Task SameSeedReplaysGiveTheSameMemory()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var chat = await MemoryChat.ForAsync(server, "alice");
        var replays = new List<MemoryInfo>();
        for (int replay = 0; replay < 2; replay++)
        {
            string? id = null;
            for (int turn = 1; turn <= 6; turn++) (id, _) = await chat.TurnAsync(id, MemoryChat.SmallTalk(turn), Budget, seed: 11);
            replays.Add(await chat.GetAsync(id!));
        }
        Assert.NotEqual(replays[0].Id, replays[1].Id);
        Assert.Equal(replays[0].Spans.Select(s => (s.Id, s.Form, s.Retention)), replays[1].Spans.Select(s => (s.Id, s.Form, s.Retention)));
        Assert.Equal(replays[0].Spans.Select(s => s.Tokens), replays[1].Spans.Select(s => s.Tokens));
        Assert.Equal(replays[0].Operations.Select(o => (o.Turn, o.Operation, o.SpanId, o.Detail)), replays[1].Operations.Select(o => (o.Turn, o.Operation, o.SpanId, o.Detail)));
    }

    [Fact]
    public async Task TheSdksMemoryChatClientCreatesReadsAndDeletesAMemory()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        using var sdk = await TestServers.ClientAsync(server, "alice");
        var memories = sdk.CreateMemoryChatClient();
        var first = await memories.ChatAsync(TestServers.ModelName, "My cat is Miso.", null, Budget, maxTokens: 4, seed: 1, factKeys: ["user.cat"]);
        Assert.Equal((Budget, 0, 0), (first.Memory!.BudgetTokens, first.Memory.Turn, first.Memory.MemoryTokens));   // answered from the empty memory
        var second = await memories.ChatAsync(TestServers.ModelName, "Hello again.", first.Memory.Id, null, maxTokens: 4, seed: 1);
        Assert.Equal(1, second.Memory!.Turn);
        Assert.True(second.Memory.MemoryTokens > 0);
        var memory = await memories.GetMemoryAsync(first.Memory.Id);   // waits for the second turn's update
        Assert.Equal(2, memory.Turn);
        Assert.Equal(["user.cat"], memory.Spans[0].FactKeys);
        await memories.DeleteMemoryAsync(memory.Id);
        var gone = await Assert.ThrowsAsync<Whetstone.Client.WhetstoneApiException>(() => memories.GetMemoryAsync(memory.Id));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    static async Task<string> LoggedPromptAsync(MemoryChat chat, string completionId)
    {
        var list = System.Text.Json.Nodes.JsonNode.Parse(await chat.Http.GetStringAsync(Routes.CompletionLog + "?limit=1000"))!["data"]!.AsArray();
        var tokens = list.Single(e => (string)e!["id"]! == completionId)!["prompt_tokens"]!.AsArray().Select(t => (int)t!).ToArray();
        return Tokenization.HuggingFaceTokenizer.Load(TestServers.Model).Decode(tokens);
    }
}
