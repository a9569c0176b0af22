using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Cookbook.Tests;

/// <summary>The learned scorer's hindsight labels and its ranking measure, checked by hand.</summary>
public class SpanValueLabelTests
{
    static int Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    [Fact]
    public void NeededLinesAreTheOnesHoldingALaterQuestionsEvidence()
    {
        var c = LongMemoryGenerator.Generate(seed: 5, 2_000, Words);
        var needed = c.Turns.Where(t => SpanValueRecipe.Needed(c, t.User)).Select(t => t.User).ToArray();
        // Not small talk, and every non-abstention question's evidence is in some needed line.
        Assert.All(needed, line => Assert.False(LongMemoryGenerator.IsSmallTalk(line), line));
        Assert.All(c.Questions.SelectMany(q => q.Evidence), e => Assert.Contains(needed, line => line.Contains(e)));
        // The stale favourite food is needed by no question (its update is).
        var food = c.Questions.Single(q => q.Question.StartsWith("What is my favourite food"));
        Assert.DoesNotContain(needed, line => line.Contains($"food is {food.StaleAnswer}."));
        Assert.InRange(needed.Length, 6, 9);
    }

    [Fact]
    public void AucCountsNeededAboveUnneededPairsWithTiesHalf()
    {
        // Needed 3 and 1; unneeded 2 and 1: pairs (3>2, 3>1, 1<2, 1=1) → (1 + 1 + 0 + 0.5) / 4.
        Assert.Equal(2.5 / 4, SpanValueRecipe.Auc([(true, 3), (true, 1), (false, 2), (false, 1)]), 12);
        Assert.Equal(1.0, SpanValueRecipe.Auc([(true, 2), (false, 1)]));
        Assert.True(double.IsNaN(SpanValueRecipe.Auc([(true, 2)])));
    }
}
