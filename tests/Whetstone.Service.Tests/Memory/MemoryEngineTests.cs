using Whetstone.Chat;
using Whetstone.Service.Memory;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.Memory;

/// <summary>Mask, allocate and refill on their own: the scorer's loss increase against an
/// independent computation, the allocator's budget split, the extractive fallback.</summary>
public class MemoryEngineTests
{
    static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    static MemorySpan Span(string id, int turn, int[] tokens, double retention = 0) => new(id, turn, T0, tokens) { Retention = retention };

    [Fact]
    public void AllocatorKeepsWhatFitsByRetentionCompressesTheNextAndDropsTheRest()
    {
        var policy = MemoryPolicy.Default with { MinCompressedTokens = 4, CompressRatio = 0.5 };
        var spans = new[]
        {
            Span("a", 1, new int[30], retention: 0.1),
            Span("b", 2, new int[20], retention: 0.9),
            Span("c", 3, new int[40], retention: 0.5),
            Span("d", 4, new int[10], retention: 0.0),
        };
        // B = 80, incoming 30 → 50 left: b (20) kept, c (40) → 20 (⌈0.5·40⌉), 10 left: a → min(10, 15) = 10, d: 0 left → dropped.
        var plan = BudgetAllocator.Allocate(spans, incomingTokens: 30, budget: 80, policy);
        Assert.Equal([SpanAction.Compress, SpanAction.Keep, SpanAction.Compress, SpanAction.Drop], plan.Select(p => p.Action));
        Assert.Equal([10, 20, 20, 0], plan.Select(p => p.Tokens));
        Assert.True(plan.Sum(p => p.Tokens) + 30 <= 80);
        // Everything fits: nothing is touched.
        Assert.All(BudgetAllocator.Allocate(spans, incomingTokens: 0, budget: 100, policy), p => Assert.Equal(SpanAction.Keep, p.Action));
        Assert.Throws<ArgumentOutOfRangeException>(() => BudgetAllocator.Allocate(spans, incomingTokens: 81, budget: 80, policy));
    }

    [Fact]
    public void AllocatorHonoursTheSpanCap()
    {
        var spans = Enumerable.Range(0, 6).Select(i => Span($"s{i}", i, new int[2], retention: i)).ToArray();
        var plan = BudgetAllocator.Allocate(spans, 2, 1000, MemoryPolicy.Default with { MaxSpans = 4 });
        // Three slots for old spans (one is the incoming turn's): the three of highest retention.
        Assert.Equal(["s3", "s4", "s5"], plan.Where(p => p.Action == SpanAction.Keep).Select(p => p.Span.Id));
    }

    [Fact]
    public void ExtractiveRefillKeepsTheHighestValueTokensInTheirOrder()
    {
        var span = Span("a", 1, [10, 11, 12, 13, 14, 15]) with { TokenValues = [0.5f, 3f, 0.1f, 3f, 2f, 0.2f] };
        // Every token its own word, all content words: the tiers tie and the values decide.
        var compressed = SpanRefill.Extractive(span, 3, t => $" w{t}");
        Assert.Equal([11, 13, 14], compressed.Tokens);
        Assert.Equal([3f, 3f, 2f], compressed.TokenValues);
        Assert.Equal(SpanForm.Extractive, compressed.Form);
    }

    /// <summary>A bigram model written out here: log p(t | prev) from a fixed table, the first token unpredicted.</summary>
    sealed class BigramModel : IMemoryModel
    {
        public HuggingFaceTokenizer Tokenizer { get; } = HuggingFaceTokenizer.Load(TestServers.Model);
        public IRenderer? Renderer => null;
        public int ContextLength => 256;
        public int Calls;

        public static double LogP(int prev, int t) => -1.0 - ((prev * 7 + t * 3) % 5) * 0.5;

        public Task<IReadOnlyList<float?>> LogprobsAsync(IReadOnlyList<int> tokens, CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromResult<IReadOnlyList<float?>>(tokens.Select((t, i) => i == 0 ? (float?)null : (float)LogP(tokens[i - 1], t)).ToArray());
        }

        public Task<IReadOnlyList<int>> GenerateAsync(IReadOnlyList<int> prompt, int maxTokens, int seed, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the scorer does not generate");
    }

    [Fact]
    public async Task LossIncreaseIsTheProbesNllWithoutTheSpanMinusWithIt()
    {
        var model = new BigramModel();
        var spans = new[] { Span("a", 1, [3, 4]), Span("b", 2, [5, 6, 7]) };
        int[] probe = [8, 9, 10];
        var work = new MemoryTurnWork();
        var scores = await new LossIncreaseScorer(model, MemoryPolicy.Default).ScoreAsync(spans, probe, work, default);

        // Independent: NLL of probe tokens after the first, each given the token before it.
        static double ProbeNll(int[] sequence, int probeStart) =>
            -Enumerable.Range(probeStart + 1, sequence.Length - probeStart - 1).Sum(t => BigramModel.LogP(sequence[t - 1], sequence[t]));
        double full = ProbeNll([3, 4, 5, 6, 7, 8, 9, 10], 5);
        double withoutA = ProbeNll([5, 6, 7, 8, 9, 10], 3), withoutB = ProbeNll([3, 4, 8, 9, 10], 2);
        Assert.Equal((withoutA - full) / 2, scores.SpanValues[0], 5);
        Assert.Equal((withoutB - full) / 2, scores.SpanValues[1], 5);
        // Token values: surprisal in the full memory; the first token is unpredicted.
        Assert.Equal(float.MaxValue, scores.TokenValues[0][0]);
        Assert.Equal(-BigramModel.LogP(3, 4), scores.TokenValues[0][1], 5);
        Assert.Equal(-BigramModel.LogP(4, 5), scores.TokenValues[1][0], 5);
        Assert.Equal((3, 8 + 6 + 5), (work.ScoringCalls, work.ScoringTokens));
    }

    [Fact]
    public async Task AnUpdateDropsASpanOnlyWhenEveryFactItStatesWasUpdated()
    {
        var model = new BigramModel();
        var memory = new MemoryState("m", "tenant", "model", BudgetTokens: 64, Seed: 1, T0)
        {
            Turn = 2,
            Spans =
            [
                Span("t1", 1, [3, 4, 5]) with { FactKeys = ["user.job", "user.city"] },
                Span("t2", 2, [6, 7]) with { FactKeys = ["user.pet"] },
            ],
        };
        var engine = new MemoryEngine(model, new LossIncreaseScorer(model, MemoryPolicy.Default), MemoryPolicy.Default);
        var (next, log) = await engine.FoldTurnAsync(memory, [8, 9], ["user.city", "user.pet"], T0, new MemoryTurnWork());
        // t2 stated only the pet: gone. t1 also states the job: kept verbatim, no longer marked for the city.
        Assert.Equal(["t1", "t3"], next.Spans.Select(s => s.Id));
        Assert.Equal(["user.job"], next.Spans[0].FactKeys);
        Assert.Equal([3, 4, 5], next.Spans[0].Tokens);
        Assert.Equal(2, log.Count(o => o.Operation == "supersede"));
    }
}
