using System.Globalization;
using System.Text.RegularExpressions;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Memory;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.Memory;

/// <summary>memory.scorer kind "learned" on /v1/chat/completions: the served memory's mask is a
/// value-head run's σ(score) — checked against scores fetched through the SDK's score call — it
/// is stored with the memory and survives a restart, bad choices are refused by field, and a
/// tenant cannot point its memory at another tenant's run.</summary>
public class LearnedScorerServingTests
{
    const int Budget = 96;
    static readonly HuggingFaceTokenizer Tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);

    static string Fact(int i) => $"My code {i} is {4000 + 37 * i}.";

    static object Request(string? memoryId, string user, object? scorer, int budget = Budget) => new
    {
        model = TestServers.ModelName,
        messages = new[] { new { role = "user", content = user } },
        max_tokens = 6, temperature = 0, seed = 5,
        memory = new Dictionary<string, object?> { ["id"] = memoryId, ["budget_tokens"] = budget, ["scorer"] = scorer },
    };

    static async Task<string> TurnAsync(TestHost server, MemoryChat chat, string? id, string user, object? scorer)
    {
        var (status, body) = await chat.PostAsync(Request(id, user, scorer));
        Assert.True(status == 200, $"{status}: {body}");
        string memory = (string)body["memory"]!["id"]!;
        await server.Core.Memories.FlushAsync(memory);
        return memory;
    }

    /// <summary>A value head taught that fact lines (as the memory holds them) matter and small talk does not.</summary>
    static async Task<TrainingClient> FactHeadAsync(ServiceClient sdk)
    {
        var head = await sdk.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 3);
        for (int step = 0; step < 20; step++)
        {
            var batch = Enumerable.Range(0, 4).SelectMany(i => new[]
            {
                Labelled($"user: {Fact(100 + step * 4 + i)}\n", 1), Labelled($"user: {MemoryChat.SmallTalk(100 + step * 4 + i)}\n", 0),
            }).ToArray();
            var fb = await head.ForwardBackwardAsync(batch, "binary_logistic");
            var optim = await head.OptimStepAsync(new AdamParams { LearningRate = 2e-2 });
            await fb.ResultAsync();
            await optim.ResultAsync();
        }
        return head;
    }

    static Datum Labelled(string text, float label) =>
        new(ModelInput.FromTokens(Tokenizer.Encode(text)), new Dictionary<string, TensorData> { ["label"] = TensorData.Float32([label]) });

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    static double Logged(string detail, string what) =>
        double.Parse(Regex.Match(detail, what + @" (-?[0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);

    [Fact]
    public async Task ServedMemoryKeepsTheSpansTheValueHeadRanksHighest()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        using var sdk = await TestServers.ClientAsync(server, "alice");
        var head = await FactHeadAsync(sdk);
        var chat = await MemoryChat.ForAsync(server, "alice");
        var scorer = new { kind = "learned", run = head.RunId };

        string? id = null;
        MemoryInfo? before = null;
        int checkedTurns = 0;
        for (int turn = 1; turn <= 10; turn++)
        {
            id = await TurnAsync(server, chat, id, turn % 2 == 1 ? Fact(turn) : MemoryChat.SmallTalk(turn), turn == 1 ? scorer : null);
            var after = await chat.GetAsync(id);
            Assert.Equal(new MemoryScorer(MemoryScorer.Learned, head.RunId), after.Scorer);
            Assert.True(after.MemoryTokens <= Budget, $"turn {turn}: {after.MemoryTokens} tokens > {Budget}");
            if (before is { Spans.Count: > 0 })
            {
                var ops = after.Operations.Where(o => o.Turn == turn).ToArray();
                // The head's scores, fetched directly through the SDK for the spans as they stood before the turn.
                var logits = (await (await head.ScoreAsync(before.Spans.Select(s => ModelInput.FromTokens(s.Tokens)).ToArray())).ResultAsync()).Values;
                var expected = new List<MemorySpan>();
                for (int i = 0; i < before.Spans.Count; i++)
                {
                    var span = before.Spans[i];
                    var scored = ops.Single(o => o.Operation == "score" && o.SpanId == span.Id);
                    Assert.StartsWith("value-head ", scored.Detail);
                    Assert.Equal(Sigmoid(logits[i]), Logged(scored.Detail, "value-head"), 3);
                    double value = Sigmoid(logits[i]) * (span.Text.StartsWith("assistant:", StringComparison.Ordinal) ? MemoryPolicy.Default.OwnAnswerWeight : 1);
                    double retention = Math.Max(value, MemoryPolicy.Default.RetentionDecay * span.Retention);
                    Assert.Equal(retention, Logged(scored.Detail, "retention"), 3);
                    expected.Add(new MemorySpan(span.Id, span.OriginTurn, span.OriginTime, span.Tokens) { Retention = retention });
                }
                // Allocate from those scores: the service kept, compressed and dropped exactly these spans.
                var added = after.Spans.Where(s => s.OriginTurn == turn).ToArray();
                var allocation = BudgetAllocator.Allocate(expected, added.Sum(s => s.Tokens.Count), Budget, MemoryPolicy.Default, added.Length);
                foreach (var a in allocation)
                    Assert.Equal(a.Action.ToString().ToLowerInvariant(),
                        ops.Single(o => o.SpanId == a.Span.Id && o.Operation is "keep" or "compress" or "drop").Operation);
                if (allocation.Any(a => a.Action != SpanAction.Keep)) checkedTurns++;
            }
            before = after;
        }
        Assert.True(checkedTurns >= 3, $"the budget should have forced a choice on several turns ({checkedTurns})");
        // What that ranking does: the old fact lines outlive the small talk.
        var old = before!.Spans.Where(s => s.OriginTurn < 10 && s.Text.StartsWith("user:", StringComparison.Ordinal)).ToArray();
        Assert.True(old.Count(s => s.Text.Contains("My code", StringComparison.Ordinal)) > old.Count(s => !s.Text.Contains("My code", StringComparison.Ordinal)),
            "old user lines left: " + string.Join(" | ", old.Select(s => s.Text.Trim())));
    }

    [Fact]
    public async Task LearnedScorerIsStoredWithTheMemoryAndUsedAfterARestart()
    {
        string data = TestServers.NewDataDirectory();
        string id, run;
        await using (var server = await TestServers.StartAsync(data, Transport.InMemory))
        {
            using var sdk = await TestServers.ClientAsync(server, "alice");
            var head = await sdk.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 3);
            await (await head.SaveStateAsync("scorer")).ResultAsync();   // what the run is restored from after the restart
            run = head.RunId;
            // The SDK's memory chat names the scorer too.
            var answer = await sdk.CreateMemoryChatClient().ChatAsync(TestServers.ModelName, Fact(1), null, Budget, maxTokens: 6, seed: 5,
                scorer: new MemoryScorer(MemoryScorer.Learned, run));
            id = answer.Memory!.Id;
            await server.Core.Memories.FlushAsync(id);
            var chat = await MemoryChat.ForAsync(server, "alice");
            id = await TurnAsync(server, chat, id, MemoryChat.SmallTalk(2), null);
        }
        await using (var server = await TestServers.StartAsync(data, Transport.InMemory))
        {
            var chat = await MemoryChat.ForAsync(server, "alice");
            Assert.Equal(new MemoryScorer(MemoryScorer.Learned, run), (await chat.GetAsync(id)).Scorer);
            id = await TurnAsync(server, chat, id, Fact(3), null);
            var after = await chat.GetAsync(id);
            var scored = after.Operations.Where(o => o.Turn == 3 && o.Operation == "score").ToArray();
            Assert.NotEmpty(scored);
            Assert.All(scored, o => Assert.StartsWith("value-head ", o.Detail));
            Assert.DoesNotContain(after.Operations, o => o.Operation == "scorer");   // no fallback to the heuristic

            // Back to the heuristic on request; the choice is stored too.
            id = await TurnAsync(server, chat, id, MemoryChat.SmallTalk(4), new { kind = "heuristic" });
            after = await chat.GetAsync(id);
            Assert.Equal(new MemoryScorer(MemoryScorer.Heuristic), after.Scorer);
            Assert.All(after.Operations.Where(o => o.Turn == 4 && o.Operation == "score"), o => Assert.StartsWith("loss-increase ", o.Detail));
        }
    }

    [Fact]
    public async Task ARunThatCannotScoreAfterARestartFallsBackToTheHeuristicAndSaysSo()
    {
        string data = TestServers.NewDataDirectory();
        string id, run;
        await using (var server = await TestServers.StartAsync(data, Transport.InMemory))
        {
            using var sdk = await TestServers.ClientAsync(server, "alice");
            run = (await sdk.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 3)).RunId;   // never saved
            var chat = await MemoryChat.ForAsync(server, "alice");
            id = await TurnAsync(server, chat, null, Fact(1), new { kind = "learned", run });
            id = await TurnAsync(server, chat, id, MemoryChat.SmallTalk(2), null);
        }
        await using (var server = await TestServers.StartAsync(data, Transport.InMemory))
        {
            var chat = await MemoryChat.ForAsync(server, "alice");
            id = await TurnAsync(server, chat, id, Fact(3), null);
            var after = await chat.GetAsync(id);
            Assert.Equal(3, after.Turn);   // the turn was folded in, not lost
            var fallback = Assert.Single(after.Operations, o => o.Operation == "scorer");
            Assert.Equal(3, fallback.Turn);
            Assert.Contains($"value head {run} unavailable", fallback.Detail);
            Assert.All(after.Operations.Where(o => o.Turn == 3 && o.Operation == "score"), o => Assert.StartsWith("loss-increase ", o.Detail));
            Assert.Equal(new MemoryScorer(MemoryScorer.Learned, run), after.Scorer);   // the choice stays
        }
    }

    [Fact]
    public async Task BadScorerChoicesAreRefusedByFieldAndAnotherTenantsRunCannotBeUsed()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        using var alice = await TestServers.ClientAsync(server, "alice");
        using var bob = await TestServers.ClientAsync(server, "bob");
        var head = await alice.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 3);
        var policy = await alice.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4);
        var bobsHead = await bob.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 3);
        var chat = await MemoryChat.ForAsync(server, "alice");

        var cases = new (object Scorer, string Field, string Reason)[]
        {
            (new { kind = "oracle" }, "memory.scorer.kind", "= 'oracle' is not a scorer ('heuristic', 'learned')"),
            (new { kind = "learned" }, "memory.scorer.run", "is required for kind 'learned'"),
            (new { kind = "heuristic", run = head.RunId }, "memory.scorer.run", $"= '{head.RunId}' is only for kind 'learned'"),
            (new { kind = "learned", run = "run_doesnotexist" }, "memory.scorer.run", "= 'run_doesnotexist' is not a training run of yours"),
            (new { kind = "learned", run = policy.RunId }, "memory.scorer.run", $"= '{policy.RunId}' has no value head"),
            // Another tenant's run reads exactly like an unknown one.
            (new { kind = "learned", run = bobsHead.RunId }, "memory.scorer.run", $"= '{bobsHead.RunId}' is not a training run of yours"),
        };
        foreach (var (scorer, field, reason) in cases)
        {
            var (status, body) = await chat.PostAsync(Request(null, Fact(1), scorer));
            Assert.True(status == 400, $"{scorer}: {status} {body}");
            Assert.Equal(field, (string)body["error"]!["param"]!);
            Assert.Contains(reason, (string)body["error"]!["message"]!);
        }
        Assert.Equal(0, (await server.Core.Store.ListMemoriesAsync("alice", 10, 0)).Total);   // nothing created by a refused request

        // On an existing memory a refused choice leaves the stored one unchanged.
        string id = await TurnAsync(server, chat, null, Fact(1), new { kind = "learned", run = head.RunId });
        var (refused, _) = await chat.PostAsync(Request(id, Fact(2), new { kind = "learned", run = bobsHead.RunId }));
        Assert.Equal(400, refused);
        var memory = await chat.GetAsync(id);
        Assert.Equal((1, new MemoryScorer(MemoryScorer.Learned, head.RunId)), (memory.Turn, memory.Scorer));
    }
}
