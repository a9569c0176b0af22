using Whetstone.Bench;
using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Cookbook.Tests;

/// <summary>The benchmark's reader and the two new baselines: the pattern reader answers every
/// question from the full history and says "unknown" without the statement; the rolling summary
/// stays within its budget and folds old turns through the summariser; MiniLM retrieval finds the
/// turn that answers a question with no word in common (where BM25 finds nothing).</summary>
public class LongMemoryReaderTests
{
    static int Words(string text) => text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length;
    static string LastWords(string text, int n) => string.Join(' ', text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).TakeLast(n));

    [Theory, InlineData(1), InlineData(2), InlineData(3), InlineData(4), InlineData(5), InlineData(6), InlineData(7), InlineData(8)]
    public void TheReaderAnswersEveryKindFromTheFullHistoryAndNothingFromSmallTalk(int seed)
    {
        var c = LongMemoryGenerator.Generate(seed, 1_000, Words);
        // The date question's answer is the date tag of the turn that says it (a new session used to move the date on after the event was dated).
        var when = c.Questions.Single(q => q.Question.StartsWith("On which date", StringComparison.Ordinal));
        string activity = when.Question["On which date did I ".Length..^1];
        Assert.StartsWith($"[{when.Answer}] Today I {activity}.", c.Turns.Single(t => t.User.EndsWith($"Today I {activity}.", StringComparison.Ordinal)).User);
        string all = string.Join("\n", c.Turns.Select(t => t.User));
        foreach (var q in c.Questions)
            Assert.Equal(q.Answer, PatternReader.Answer(q.Question, all, LastWords));
        // Small talk alone answers nothing: every question but abstention is wrong.
        string talk = string.Join("\n", c.Turns.Where(t => t.FactKeys.Count == 0 && !t.User.Contains("Today I")).Select(t => t.User));
        Assert.All(c.Questions, q => Assert.Equal(q.Kind == QuestionKind.Abstention, PatternReader.Correct(q, PatternReader.Answer(q.Question, talk, LastWords))));
    }

    [Fact]
    public void TheReaderTakesTheLatestValueToleratesDroppedWordsAndReadsOnlyItsWindow()
    {
        Assert.Equal("Oslo", PatternReader.Answer("In which city do I live now?", "I live in Lisbon.\nBig news: I moved, I live in Oslo now.", LastWords));
        Assert.Equal("Lisbon", PatternReader.Answer("In which city do I live now?", "I moved, I live in Oslo now.\nI live in Lisbon.", LastWords));
        Assert.Equal("Rex", PatternReader.Answer("What is my dog called?", "user: [2025-01-02] dog called Rex.", LastWords));
        Assert.Equal("Quito", PatternReader.Answer("In which city does my sister live?", "sister Alma. Alma lives in Quito.", LastWords));
        Assert.Equal("unknown", PatternReader.Answer("In which city does my sister live?", "Alma lives in Quito.", LastWords));
        Assert.Equal("2025-02-03", PatternReader.Answer("On which date did I fixed the bike?", "[2025-02-03] Today I fixed the bike.", LastWords));
        Assert.Equal("learned to knit", PatternReader.Answer("Which came first: I fixed the bike, or I learned to knit?",
            "[2025-02-09] Today I fixed the bike.\n[2025-01-03] Today I learned to knit.", LastWords));
        // Beyond the reader's window (4,096 words here) a statement is not read.
        string far = "My dog is called Rex. " + string.Concat(Enumerable.Repeat("nothing happened today. ", 1400));
        Assert.Equal("unknown", PatternReader.Answer("What is my dog called?", far, LastWords));
    }

    [Fact]
    public async Task RollingSummaryStaysInItsBudgetAndFoldsTheOldestTurns()
    {
        var prompts = new List<(string Prompt, int Max)>();
        // A summariser that keeps the capitalised words it is shown (and, once, writes far too much).
        Task<string> Summarise(string prompt, int max)
        {
            prompts.Add((prompt, max));
            string body = prompt[prompt.IndexOf("Summary so far:", StringComparison.Ordinal)..];
            var names = body.Split([' ', '\n', '.', ','], StringSplitOptions.RemoveEmptyEntries).Where(w => char.IsUpper(w[0]) && w is not "Summary" and not "New").Distinct();
            string summary = string.Join(' ', names);
            return Task.FromResult(prompts.Count == 2 ? summary + string.Concat(Enumerable.Repeat(" filler", 100)) : summary);
        }
        var rolling = new RollingSummary(budget: 24, Words, LastWords, Summarise);
        var turns = new[] { "my dog is called Rex", "my sister is Alma", "nothing much happened today at all", "we talked about the weather",
            "Alma lives in Quito now", "I cooked dinner and went to bed early", "the train was late again this morning", "I read a book" };
        foreach (var turn in turns)
        {
            await rolling.AddAsync(turn);
            Assert.InRange(rolling.ContextTokens, 1, 24);
        }
        Assert.Equal(prompts.Count, rolling.SummaryCalls);
        Assert.InRange(rolling.SummaryCalls, 2, 4);
        // Every summary was asked for a quarter of the budget; the first folded the first turn.
        Assert.All(prompts, p => Assert.Equal(6, p.Max));
        Assert.Contains("my dog is called Rex", prompts[0].Prompt);
        // The newest turn is always there verbatim.
        Assert.EndsWith("I read a book", rolling.Context);
    }

    [Fact]
    public void EmbeddingRetrievalRanksByCosineAndPacksInOrder()
    {
        var turns = new[] { "a", "b", "c", "d" }.Select((u, i) => new ConversationTurn(1, new DateOnly(2025, 1, 1 + i), u, [])).ToArray();
        // Hand-made 2-d embeddings: the question is [1, 0]; cosines 0, 0.6, 1, -1.
        var table = new Dictionary<string, float[]> { ["q"] = [1, 0], ["a"] = [0, 2], ["b"] = [3, 4], ["c"] = [5, 0], ["d"] = [-1, 0] };
        var retrieval = new EmbeddingRetrieval(turns, texts => texts.Select(t => table[t]).ToArray());
        Assert.Equal(0.6, EmbeddingRetrieval.Cosine(table["q"], table["b"]), 10);
        Assert.Equal(["b", "c"], retrieval.Context("q", budget: 2, Words));
        Assert.Equal(["c"], retrieval.Context("q", budget: 1, Words));
    }

    [Fact]
    public void MiniLmFindsTheJobTurnThatBm25Misses()
    {
        var turns = new[]
        {
            "[2025-01-06] Hi, I am a carpenter and I live in Lisbon.",
            "[2025-01-06] The weather was grey again, nothing special happened.",
            "[2025-01-07] Traffic was slow this morning, as usual.",
            "[2025-01-07] I watched some videos and had a cup of tea.",
        }.Select((u, i) => new ConversationTurn(1, new DateOnly(2025, 1, 6 + i / 2), u, [])).ToArray();
        using var minilm = new MiniLmEmbedder();
        var vectors = minilm.Embed(["I am a carpenter.", "What is my job?"]);
        Assert.Equal(384, vectors[0].Length);
        Assert.Equal(1.0, EmbeddingRetrieval.Cosine(vectors[0], vectors[0]), 4);
        Assert.Equal(1.0, vectors[0].Sum(x => (double)x * x), 3);   // normalised

        var context = new EmbeddingRetrieval(turns, minilm.Embed).Context("What is my job?", budget: 12, Words);
        Assert.Equal([turns[0].User], context);
        Assert.DoesNotContain(turns[0].User, ContextBaselines.Bm25(turns, "What is my job?", budget: 12, Words));
    }
}
