namespace Whetstone.Cookbook.LongMemory;

/// <summary>Keeps the reader's "unknown" labels near their benchmark share. A truncated or
/// compressed context often loses the fact a question asks for, so labelling every question with
/// what the context states made half the first reader's labels "unknown" (49.9%), and that prior
/// beat what it read: it answered "unknown" to all 936 benchmark questions
/// (docs/results/memory-diffusion.md section 8). The benchmark asks one abstention question in
/// eight, so every answered question is kept and each "unknown" one is kept with the probability
/// that makes unknowns <see cref="BenchmarkShare"/> of the kept labels on average.</summary>
public static class ReaderLabelBalance
{
    /// <summary>One abstention question among the generator's eight.</summary>
    public const double BenchmarkShare = 1.0 / 8;

    /// <summary>The question/answer pairs to train on, in their order: all answered pairs, and
    /// "unknown" pairs with probability share/(1 − share) × answered / unknown (capped at 1). Empty when
    /// nothing is answered: such a context teaches only "unknown", so the caller draws another.</summary>
    public static List<(string Question, string Answer)> Keep(IReadOnlyList<(string Question, string Answer)> labelled, Random random, double share = BenchmarkShare)
    {
        if (share is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(share), share, "share must be in [0, 1)");
        int unknown = labelled.Count(p => p.Answer == MemoryQuestion.Unknown);
        int known = labelled.Count - unknown;
        if (known == 0) return [];
        double keepUnknown = unknown == 0 ? 0 : Math.Min(1, share / (1 - share) * known / unknown);
        return labelled.Where(p => p.Answer != MemoryQuestion.Unknown || random.NextDouble() < keepUnknown).ToList();
    }
}
