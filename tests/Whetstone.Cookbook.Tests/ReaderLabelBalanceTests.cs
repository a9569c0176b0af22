using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Cookbook.Tests;

/// <summary>The reader's training labels: without rebalancing the truncation and memory-text
/// contexts lose facts and "unknown" is a large share of the labels (the first reader's data: 49.9%);
/// rebalanced, "unknown" is near the benchmark's one in eight, every answered label is kept, and a
/// context that answers nothing is skipped.</summary>
public class ReaderLabelBalanceTests
{
    static int Words(string text) => text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length;
    static string LastWords(string text, int n) => string.Join(' ', text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).TakeLast(n));

    static (int Answers, int Unknown) Mix(IEnumerable<ReaderTrainingData.Example> examples)
    {
        var replies = examples.SelectMany(e => e.Messages.Where(m => m.Role == "assistant")).ToList();
        return (replies.Count, replies.Count(m => m.Content == MemoryQuestion.Unknown));
    }

    [Fact]
    public void RebalancedBatchHasUnknownNearOneInEightWhereTheRawOneHasFarMore()
    {
        var raw = Mix(ReaderTrainingData.Generate(120, 48, 300, 5_000, Words, LastWords));
        var balanced = Mix(ReaderTrainingData.Generate(120, 48, 300, 5_000, Words, LastWords, ReaderLabelBalance.BenchmarkShare));
        double rawShare = raw.Unknown / (double)raw.Answers, share = balanced.Unknown / (double)balanced.Answers;
        // Raw: 1 abstention in 8 plus every fact the shape lost. Rebalanced: 1/8 in expectation; over
        // ~500 labels the binomial standard deviation of the share is ~1.5 points, so ±5 points is > 3σ.
        Assert.True(rawShare > 0.25, $"raw unknown share {rawShare:P1} of {raw.Answers}");
        Assert.InRange(share, 0.125 - 0.05, 0.125 + 0.05);
        Assert.True(balanced.Answers >= 120 * 3, $"{balanced.Answers} labels in 120 examples");
    }

    [Fact]
    public void KeepsEveryAnsweredPairDropsContextsThatAnswerNothingAndRefusesABadShare()
    {
        var random = new Random(3);
        (string, string)[] labelled = [("q1", "Rex"), ("q2", "unknown"), ("q3", "Lima"), ("q4", "unknown"), ("q5", "unknown")];
        var kept = ReaderLabelBalance.Keep(labelled, random);
        Assert.Equal(["Rex", "Lima"], kept.Where(p => p.Answer != "unknown").Select(p => p.Answer));
        Assert.Empty(ReaderLabelBalance.Keep([("q", "unknown"), ("r", "unknown")], random));
        // Share 0: no unknown survives; the answered pairs keep their order.
        Assert.Equal(["q1", "q3"], ReaderLabelBalance.Keep(labelled, random, 0).Select(p => p.Question));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReaderLabelBalance.Keep(labelled, random, 1));
    }
}
