using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Cookbook.Tests;

/// <summary>Contexts never exceed B when counted whole: the separators and what a tokenizer does at a
/// join count too. The counter here makes each newline a token of its own (as BPE tokenizers do),
/// which the parts' sum leaves out.</summary>
public class ContextPackingTests
{
    static int Tokens(string text) => text.Split(' ', '\n').Count(w => w.Length > 0) + text.Count(c => c == '\n');

    [Fact]
    public void TheJoinedContextCountedWholeIsAtMostB()
    {
        var turns = new[] { "a b c", "d e", "f g h", "i j" }.Select(t => new ConversationTurn(1, new DateOnly(2025, 1, 1), t, [])).ToArray();
        // Parts alone: 2 + 3 = 5 for the last two; joined with a newline: 6.
        Assert.Equal(["i j"], ContextBaselines.Truncation(turns, budget: 5, Tokens));
        Assert.Equal(["f g h", "i j"], ContextBaselines.Truncation(turns, budget: 6, Tokens));
        Assert.Equal(6, Tokens(string.Join(ContextPacking.Separator, ContextBaselines.Truncation(turns, budget: 6, Tokens))));
        // Out of order priorities still come back in the original order, and each pick is checked whole.
        var texts = turns.Select(t => t.User).ToArray();
        Assert.Equal([1, 3], ContextPacking.Pack(texts, [3, 1, 0, 2], budget: 5, Tokens));
        foreach (int budget in Enumerable.Range(1, 16))
        {
            Assert.True(Tokens(ContextPacking.Join(texts, ContextPacking.Pack(texts, [2, 0, 3, 1], budget, Tokens))) <= budget);
            Assert.True(Tokens(string.Join("\n", ContextBaselines.Truncation(turns, budget, Tokens))) <= budget);
            Assert.True(Tokens(string.Join("\n", ContextBaselines.Bm25(turns, "a d f i", budget, Tokens))) <= budget);
        }
    }

    [Fact]
    public void GeneratedHistoriesPackedAtEveryBudgetStayWithinIt()
    {
        var conversation = LongMemoryGenerator.Generate(seed: 2, 3_000, Tokens);
        foreach (int budget in new[] { 64, 256, 1024 })
        {
            var truncation = string.Join("\n", ContextBaselines.Truncation(conversation.Turns, budget, Tokens));
            Assert.InRange(Tokens(truncation), budget - 40, budget);
            foreach (var q in conversation.Questions)
                Assert.True(Tokens(string.Join("\n", ContextBaselines.Bm25(conversation.Turns, q.Question, budget, Tokens))) <= budget);
        }
    }
}
