using Whetstone.Service.Memory;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.Memory;

/// <summary>The mask's curation on its own: turns become one span per line (the user's facts apart
/// from the model's answer), the model's own answer goes first, and small talk that the
/// conversation repeats fades while a fact said once stays — over many turns, at a budget far
/// below the history, with the loss-increase scorer on a hand-written bigram model.</summary>
public class SpanCurationTests
{
    static readonly HuggingFaceTokenizer Tokenizer = HuggingFaceTokenizer.Load(TestServers.Model);
    static string Text(int token) => Tokenizer.Decode([token]);
    static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>log p(t | prev) from a fixed table (no meaning: the loss increase is noise here, as on the random models).</summary>
    sealed class BigramModel : IMemoryModel
    {
        public HuggingFaceTokenizer Tokenizer { get; } = SpanCurationTests.Tokenizer;
        public Whetstone.Chat.IRenderer? Renderer => null;
        public int ContextLength => 4096;

        public Task<IReadOnlyList<float?>> LogprobsAsync(IReadOnlyList<int> tokens, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<float?>>(tokens.Select((t, i) => i == 0 ? (float?)null : (float)(-1.0 - ((tokens[i - 1] * 7 + t * 3) % 5) * 0.5)).ToArray());

        public Task<IReadOnlyList<int>> GenerateAsync(IReadOnlyList<int> prompt, int maxTokens, int seed, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("extractive refill only");
    }

    [Fact]
    public void ATurnSplitsIntoLinesThatConcatenateBackExactly()
    {
        const string turn = "user: [2025-03-04] My dog is called Rex.\nassistant: what a lovely name\n";
        var tokens = Tokenizer.Encode(turn);
        var lines = SpanSplitter.Lines(tokens, Text);
        Assert.Equal(["user", "assistant"], lines.Select(l => l.Speaker));
        Assert.Equal(tokens, lines.SelectMany(l => l.Tokens));
        Assert.Equal("user: [2025-03-04] My dog is called Rex.\n", Tokenizer.Decode(lines[0].Tokens));
        // A line without a role label is the previous speaker's (the model's answer had a newline in it).
        Assert.Equal(["user", "assistant", "assistant"], SpanSplitter.Lines(Tokenizer.Encode("user: hi\nassistant: zq\nxv wk\n"), Text).Select(l => l.Speaker));
        // No newline at all: one piece, no speaker.
        Assert.Single(SpanSplitter.Lines(Tokenizer.Encode("just text"), Text), l => l.Speaker is null);
    }

    static async Task<MemoryState> FoldAsync(MemoryState memory, string text, params string[] keys)
    {
        var model = new BigramModel();
        var policy = MemoryPolicy.Default with { Refill = RefillMode.Extractive };
        var engine = new MemoryEngine(model, new LossIncreaseScorer(model, policy), policy);
        return (await engine.FoldTurnAsync(memory, Tokenizer.Encode(text), keys, T0.AddMinutes(memory.Turn), new MemoryTurnWork())).Memory;
    }

    [Fact]
    public async Task TheAnswerIsItsOwnSpanWithoutTheTurnsFactKeysAndGoesFirst()
    {
        var memory = new MemoryState("m", "tenant", "model", BudgetTokens: 120, Seed: 1, T0);
        memory = await FoldAsync(memory, "user: My dog is called Rex.\nassistant: noted zq xv wk\n", "user.pet");
        Assert.Equal(["t1.1", "t1.2"], memory.Spans.Select(s => s.Id));
        Assert.Equal(["user.pet"], memory.Spans[0].FactKeys);
        Assert.Empty(memory.Spans[1].FactKeys);
        Assert.Equal("assistant", memory.Spans[1].Speaker);
        // Fill the budget with small talk: the answer of turn 1 (novel words, but the model's own) goes before the user's fact.
        int said = Tokenizer.Encode("user: My dog is called Rex.\nassistant: noted zq xv wk\n").Count;
        for (int i = 0; i < 6; i++) memory = await FoldAsync(memory, "user: The weather was grey again.\nassistant: ok\n");
        Assert.True(said + 6 * Tokenizer.Encode("user: The weather was grey again.\nassistant: ok\n").Count > 2 * 120);
        Assert.True(memory.TokenCount <= 120);
        Assert.Contains(memory.Spans, s => s.Id == "t1.1" && s.Form == SpanForm.Verbatim);
        Assert.DoesNotContain(memory.Spans, s => s.Id == "t1.2");
    }

    [Fact]
    public async Task ASpanWithNoWholeWordThatFitsItsAllotmentIsDroppedNotKeptEmpty()
    {
        // One long word (a key of many tokens): compressing it to fewer tokens than the word keeps nothing.
        var word = Tokenizer.Encode("user.city_of_the_sister_2025_and_more_keys");
        Assert.True(word.Count >= 12, $"{word.Count} tokens");
        var incoming = Tokenizer.Encode("user: The weather was grey again.\n");
        var memory = new MemoryState("m", "tenant", "model", BudgetTokens: incoming.Count + word.Count / 2, Seed: 1, T0)
        {
            Turn = 1, Spans = [new MemorySpan("t1", 1, T0, word)],
        };
        var model = new BigramModel();
        var policy = MemoryPolicy.Default with { Refill = RefillMode.Extractive };
        var (next, log) = await new MemoryEngine(model, new LossIncreaseScorer(model, policy), policy).FoldTurnAsync(memory, incoming, [], T0, new MemoryTurnWork());
        Assert.DoesNotContain(next.Spans, s => s.Tokens.Count == 0);
        Assert.Equal(["t2"], next.Spans.Select(s => s.Id));
        Assert.Contains(log, o => o.Operation == "drop" && o.SpanId == "t1" && o.Detail.Contains("no whole word fits"));
    }

    [Fact]
    public async Task SmallTalkFadesAndFactsSaidOnceStayOverManyTurns()
    {
        string[] talk = ["The weather was grey again, nothing special happened.", "I watched some videos and had a cup of tea.", "Traffic was slow this morning, as usual."];
        string[] facts = ["My dog is called Rex.", "My sister is Chiara.", "Chiara lives in Tbilisi.", "Today I ran a half marathon."];
        var memory = new MemoryState("m", "tenant", "model", BudgetTokens: 256, Seed: 1, T0);
        int turn = 0, historyTokens = 0;
        foreach (var fact in facts)
        {
            // Each fact among six turns of small talk, so the history is many times the budget.
            foreach (var said in talk.Concat(talk).Prepend(fact))
            {
                string text = $"user: [2025-03-{4 + turn / 6:00}] {said}\n";
                historyTokens += Tokenizer.Encode(text).Count;
                memory = await FoldAsync(memory, text);
                Assert.True(memory.TokenCount <= memory.BudgetTokens, $"turn {turn}: {memory.TokenCount} tokens");
                turn++;
            }
        }
        Assert.True(historyTokens > 4 * memory.BudgetTokens, $"history {historyTokens} tokens");
        string kept = Tokenizer.Decode(memory.Tokens);
        foreach (var fact in facts)
            Assert.Contains(fact, kept);
        // Small talk said on many turns keeps at most the newest line or two.
        int talkLines = talk.Sum(t => kept.Split('\n').Count(line => line.Contains(t)));
        Assert.InRange(talkLines, 0, 2);
    }
}
