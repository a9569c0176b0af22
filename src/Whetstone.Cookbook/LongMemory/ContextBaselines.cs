namespace Whetstone.Cookbook.LongMemory;

/// <summary>The baselines' contexts at a budget of B tokens, built from the turns' texts and packed
/// exactly (<see cref="ContextPacking"/>: the joined context, counted whole, is at most B).
/// Truncation: the last turns that fit. BM25 retrieval: the turns ranked by BM25 against the
/// question, packed while they fit, shown in their original order.</summary>
public static class ContextBaselines
{
    public static IReadOnlyList<string> Truncation(IReadOnlyList<ConversationTurn> turns, int budget, Func<string, int> countTokens)
    {
        var texts = turns.Select(t => t.User).ToArray();
        return ContextPacking.Pack(texts, Enumerable.Range(0, texts.Length).Reverse(), budget, countTokens, contiguous: true).Select(i => texts[i]).ToArray();
    }

    public static IReadOnlyList<string> Bm25(IReadOnlyList<ConversationTurn> turns, string question, int budget, Func<string, int> countTokens)
    {
        var texts = turns.Select(t => t.User).ToArray();
        var scores = new Bm25Index(texts).Scores(question);
        var ranked = Enumerable.Range(0, texts.Length).Where(i => scores[i] > 0).OrderByDescending(i => scores[i]).ThenByDescending(i => i);
        return ContextPacking.Pack(texts, ranked, budget, countTokens).Select(i => texts[i]).ToArray();
    }
}

/// <summary>Okapi BM25 (k1 = 1.2, b = 0.75) over lower-cased word tokens, idf = ln(1 + (N − df + 0.5)/(df + 0.5)).</summary>
public sealed class Bm25Index
{
    const double K1 = 1.2, B = 0.75;
    readonly List<Dictionary<string, int>> _termCounts;
    readonly Dictionary<string, int> _documentFrequency = [];
    readonly int[] _lengths;
    readonly double _averageLength;

    public Bm25Index(IReadOnlyList<string> documents)
    {
        _termCounts = documents.Select(d => Words(d).GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count())).ToList();
        _lengths = documents.Select(d => Words(d).Count).ToArray();
        _averageLength = _lengths.Length == 0 ? 0 : _lengths.Average();
        foreach (var counts in _termCounts)
            foreach (var term in counts.Keys) _documentFrequency[term] = _documentFrequency.GetValueOrDefault(term) + 1;
    }

    public double[] Scores(string query)
    {
        var terms = Words(query).Distinct().ToArray();
        int n = _termCounts.Count;
        return _termCounts.Select((counts, d) => terms.Sum(term =>
        {
            if (!counts.TryGetValue(term, out int tf)) return 0;
            int df = _documentFrequency[term];
            double idf = Math.Log(1 + (n - df + 0.5) / (df + 0.5));
            return idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * _lengths[d] / _averageLength));
        })).ToArray();
    }

    public static List<string> Words(string text) =>
        System.Text.RegularExpressions.Regex.Matches(text.ToLowerInvariant(), @"[\p{L}\p{N}]+").Select(m => m.Value).ToList();
}

/// <summary>The oracle reader's check on a context: could a reader that sees the context answer?
/// Every evidence string is present, and for a knowledge update the stale value is absent (or
/// appears before the latest one, so "the latest wins" still reads right). Abstention questions
/// have no evidence and count as answerable by any context (the reader must say "unknown").</summary>
public static class EvidenceCheck
{
    public static bool Answerable(MemoryQuestion question, string context)
    {
        if (!question.Evidence.All(e => context.Contains(e, StringComparison.Ordinal))) return false;
        if (question.StaleAnswer is not { } stale) return true;
        int staleAt = context.LastIndexOf(stale, StringComparison.Ordinal);
        return staleAt < 0 || staleAt < context.LastIndexOf(question.Answer, StringComparison.Ordinal);
    }
}
