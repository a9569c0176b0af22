using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Cookbook.Tests;

/// <summary>The long-memory benchmark's generator and baselines (word count stands in for the tokenizer here).</summary>
public class LongMemoryTests
{
    static int Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    [Theory, InlineData(1_000), InlineData(20_000)]
    public void ConversationReachesItsLengthWithEveryKindOfQuestionAndIsDeterministicPerSeed(int length)
    {
        var a = LongMemoryGenerator.Generate(seed: 3, length, Words);
        var b = LongMemoryGenerator.Generate(seed: 3, length, Words);
        var c = LongMemoryGenerator.Generate(seed: 4, length, Words);
        int total = a.Turns.Sum(t => Words(t.User));
        Assert.InRange(total, length, length + 40);
        static string Flat(LongMemoryConversation c) => string.Join("\n", c.Turns.Select(t => $"{t.Session} {t.Date} {t.User} {string.Join(',', t.FactKeys)}"));
        Assert.Equal(Flat(a), Flat(b));
        Assert.Equal(a.Questions.Select(q => (q.Kind, q.Question, q.Answer)), b.Questions.Select(q => (q.Kind, q.Question, q.Answer)));
        Assert.NotEqual(a.Turns.Select(t => t.User), c.Turns.Select(t => t.User));
        Assert.Equal(Enum.GetValues<QuestionKind>(), a.Questions.Select(q => q.Kind).Distinct().Order());
        // Sessions and dates only move forward; the full history answers everything (the full-context oracle).
        Assert.True(a.Turns.Zip(a.Turns.Skip(1)).All(p => p.First.Date <= p.Second.Date && p.First.Session <= p.Second.Session));
        string all = string.Join("\n", a.Turns.Select(t => t.User));
        Assert.All(a.Questions.Where(q => q.Kind != QuestionKind.Abstention), q => Assert.True(EvidenceCheck.Answerable(q, all), q.Question));
        Assert.All(a.Questions.Where(q => q.Kind == QuestionKind.Abstention), q => Assert.Equal(MemoryQuestion.Unknown, q.Answer));
        // Updates are marked: the update turn carries the fact key of the fact it replaces.
        var update = a.Questions.First(q => q.Kind == QuestionKind.KnowledgeUpdate);
        Assert.Equal(2, a.Turns.Count(t => t.FactKeys.Contains("user.city")));
        Assert.Contains(a.Turns, t => t.User.Contains(update.StaleAnswer!) && t.FactKeys.Contains("user.city"));
    }

    [Fact]
    public void TruncationKeepsTheLastTurnsThatFitAndBm25TheBestMatchesInOrder()
    {
        var turns = new[] { "alpha beta", "gamma delta epsilon", "my dog is called Rex", "zeta eta" }
            .Select((u, i) => new ConversationTurn(1, new DateOnly(2025, 1, 1 + i), u, [])).ToArray();
        Assert.Equal(["zeta eta"], ContextBaselines.Truncation(turns, budget: 4, Words));
        Assert.Equal(["zeta eta"], ContextBaselines.Truncation(turns, budget: 6, Words));   // the next older turn (5 words) does not fit
        Assert.Equal(["my dog is called Rex", "zeta eta"], ContextBaselines.Truncation(turns, budget: 7, Words));
        Assert.Equal(["my dog is called Rex"], ContextBaselines.Bm25(turns, "What is my dog called?", budget: 5, Words));

        // BM25 against a hand computation: one document of three holds "dog" once.
        var index = new Bm25Index(["a dog", "a cat", "a cow"]);
        double idf = Math.Log(1 + (3 - 1 + 0.5) / (1 + 0.5));
        Assert.Equal(idf * 1 * 2.2 / (1 + 1.2), index.Scores("dog")[0], 10);
        Assert.Equal([0.0, 0.0], index.Scores("dog")[1..]);
    }

    [Fact]
    public void TheStaleValueAfterTheLatestMakesAnUpdateUnanswerable()
    {
        var q = new MemoryQuestion(QuestionKind.KnowledgeUpdate, "Where do I live now?", "Oslo", ["Oslo"]) { StaleAnswer = "Lisbon" };
        Assert.True(EvidenceCheck.Answerable(q, "I live in Lisbon. I moved to Oslo."));
        Assert.True(EvidenceCheck.Answerable(q, "I moved to Oslo."));
        Assert.False(EvidenceCheck.Answerable(q, "I moved to Oslo. I live in Lisbon."));
        Assert.False(EvidenceCheck.Answerable(q, "I live in Lisbon."));
    }
}
