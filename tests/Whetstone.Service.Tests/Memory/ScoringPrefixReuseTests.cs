using Whetstone.Protocol;
using Whetstone.Service.Memory;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Memory;

/// <summary>KV reuse of unchanged spans across turns: the scorer's passes over the real engine
/// worker give the same values with the memory's kept KV as with a full prefill of every pass,
/// while prefilling only what follows the prefix each pass shares with the kept one.</summary>
public class ScoringPrefixReuseTests
{
    const double Tolerance = 1e-3;   // nats per probe token; each logprob agrees to ~1e-5
    static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    static int SharedPrefix(int[] a, int[] b)
    {
        int i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
        return i;
    }

    static void AssertSameScores(SpanScores full, SpanScores reused)
    {
        for (int i = 0; i < full.SpanValues.Count; i++)
        {
            Assert.True(Math.Abs(full.SpanValues[i] - reused.SpanValues[i]) <= Tolerance, $"span {i}: full prefill {full.SpanValues[i]}, reused {reused.SpanValues[i]}");
            for (int t = 0; t < full.TokenValues[i].Count; t++)
                Assert.True(Math.Abs(full.TokenValues[i][t] - reused.TokenValues[i][t]) <= Tolerance || full.TokenValues[i][t] == reused.TokenValues[i][t],
                    $"span {i} token {t}: {full.TokenValues[i][t]} against {reused.TokenValues[i][t]}");
        }
    }

    [Fact]
    public async Task ScoresWithKeptKvEqualAFullPrefillAndTheNextTurnPrefillsOnlyWhatChanged()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var model = new EngineMemoryModel(server.Core.Context.Host(TestServers.ModelName), "alice");
        int[] Encode(string text) => [.. model.Tokenizer.Encode(text)];
        var spans = new List<MemorySpan>
        {
            new("t1", 1, T0, Encode("user: My sister is called Ana.\n")),
            new("t2", 2, T0, Encode("user: I live in Lisbon.\n")),
            new("t3", 3, T0, Encode("user: Nice weather today.\n")),
        };
        var probe1 = Encode("user: I had tea at five.\n");
        var probe2 = Encode("user: Where does my sister live?\n");
        var policy = MemoryPolicy.Default;
        var keyed = new LossIncreaseScorer(model, policy, "memory/alice/m1");
        var plain = new LossIncreaseScorer(model, policy);

        // Turn 1: nothing kept yet, so the full pass prefills everything; each ablation reuses the spans before the one it leaves out.
        var work1 = new MemoryTurnWork();
        var scores1 = await keyed.ScoreAsync(spans, probe1, work1, default);
        AssertSameScores(await plain.ScoreAsync(spans, probe1, new MemoryTurnWork(), default), scores1);
        int[] full1 = [.. spans.SelectMany(s => s.Tokens), .. probe1];
        int expected1 = Enumerable.Range(0, spans.Count)
            .Sum(i => Math.Max(0, SharedPrefix(full1, [.. spans.Where((_, j) => j != i).SelectMany(s => s.Tokens), .. probe1]) - 1));
        Assert.Equal(expected1, work1.ScoringReusedTokens);

        // Turn 2: the three spans kept verbatim and turn 1 added at the end, as the engine folds it; the kept full pass was exactly that.
        spans.Add(new MemorySpan("t4", 4, T0, probe1));
        var work2 = new MemoryTurnWork();
        var scores2 = await keyed.ScoreAsync(spans, probe2, work2, default);
        AssertSameScores(await plain.ScoreAsync(spans, probe2, new MemoryTurnWork(), default), scores2);
        int[] full2 = [.. spans.SelectMany(s => s.Tokens), .. probe2];
        // Each pass without span i reuses the longer of: its prefix shared with this turn's full pass, and with last turn's pass without the same span.
        int[] Without(int i, int[] probe, int count) => [.. spans.Take(count).Where((_, j) => j != i).SelectMany(s => s.Tokens), .. probe];
        int expected2 = (SharedPrefix(full1, full2) - 1) + Enumerable.Range(0, spans.Count).Sum(i =>
            Math.Max(0, Math.Max(SharedPrefix(full2, Without(i, probe2, 4)), i < 3 ? SharedPrefix(Without(i, probe1, 3), Without(i, probe2, 4)) : 0) - 1));
        Assert.Equal(full1.Length - 1, SharedPrefix(full1, full2) - 1);   // the whole last memory and probe are reused but one token
        Assert.Equal(expected2, work2.ScoringReusedTokens);
        // Nothing old changed: every pass but the one without the new span prefills only the new probe and one token.
        int prefilled = work2.ScoringTokens - work2.ScoringReusedTokens;
        int newSpanPass = Without(3, probe2, 4).Length - (SharedPrefix(full2, Without(3, probe2, 4)) - 1);
        Assert.Equal(4 * (probe2.Length + 1) + newSpanPass, prefilled);
        Assert.True(prefilled < 0.5 * work2.ScoringTokens, $"turn 2 prefilled {prefilled} of {work2.ScoringTokens} scoring tokens");
    }

    [Fact]
    public async Task ServedTurnsReuseTheMemorysKeptKvAndCountIt()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var chat = await MemoryChat.ForAsync(server, "alice");
        string? id = null;
        var work = new List<MemoryTurnWorkInfo>();
        for (int turn = 1; turn <= 8; turn++)
        {
            (id, _) = await chat.TurnAsync(id, MemoryChat.SmallTalk(turn), budget: 96);
            work.Add((await chat.GetAsync(id)).LastTurnWork!);
        }
        // From turn 2 on the memory has spans to score, and its front is what the last turn's full pass kept.
        foreach (var (w, turn) in work.Select((w, i) => (w, i + 1)).Skip(1))
        {
            Assert.True(w.ScoringCalls > 0, $"turn {turn}: no scoring");
            Assert.True(w.ScoringReusedTokens > 0, $"turn {turn}: nothing reused of {w.ScoringTokens} scoring tokens");
            Assert.True(w.PrefilledTokens == w.TotalTokens - w.ScoringReusedTokens && w.PrefilledTokens < w.TotalTokens);
        }
        int scoring = work.Sum(w => w.ScoringTokens), reused = work.Sum(w => w.ScoringReusedTokens);
        // At B = 96 with ~30-token turns most spans change every turn (36% reused when written); the first test covers the unchanged case exactly.
        Assert.True(reused > scoring / 4, $"reused {reused} of {scoring} scoring tokens over 8 turns: " + string.Join(", ", work.Select(w => $"{w.ScoringReusedTokens}/{w.ScoringTokens}")));
    }

    [Fact]
    public async Task DeletingAMemoryDropsItsKeptKvAtOnceAndLeavesOtherMemoriesKv()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var worker = server.Core.Context.Host(TestServers.ModelName).Worker;
        var chat = await MemoryChat.ForAsync(server, "alice");
        string? doomed = null, kept = null;
        for (int turn = 1; turn <= 4; turn++)
        {
            (doomed, _) = await chat.TurnAsync(doomed, MemoryChat.SmallTalk(turn), budget: 96);
            (kept, _) = await chat.TurnAsync(kept, MemoryChat.SmallTalk(turn + 10), budget: 96);
        }
        string doomedKey = $"memory/alice/{doomed}", keptKey = $"memory/alice/{kept}";
        int spans = (await chat.GetAsync(doomed!)).Spans.Count;
        // The full pass and one pass per span scored last turn are kept: more than one entry.
        int before = await worker.CountPrefixesAsync(doomedKey), other = await worker.CountPrefixesAsync(keptKey);
        Assert.True(before > 1, $"{before} KV entries kept for the memory before DELETE (it has {spans} spans)");
        Assert.True(other > 1, $"{other} KV entries kept for the other memory");

        var response = await chat.Http.DeleteAsync(Routes.Memory(doomed!));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(0, await worker.CountPrefixesAsync(doomedKey));
        Assert.Equal(other, await worker.CountPrefixesAsync(keptKey));
    }
}
