namespace Whetstone.Cookbook.LongMemory;

/// <summary>Packs texts into a context of at most B tokens, exactly: the context is the chosen texts
/// in their original order joined by <see cref="Separator"/>, and a text is taken only when the
/// joined context, counted as a whole, still fits. Summing the parts' counts (what the baselines
/// did before) left out the separators and the merges a tokenizer makes across a join, so contexts
/// came out a few tokens over B (3,090 at B = 3,072).</summary>
public static class ContextPacking
{
    public const string Separator = "\n";

    /// <summary>The indices taken, ascending. <paramref name="byPriority"/>: the candidates, best first.
    /// <paramref name="contiguous"/>: stop at the first that does not fit (truncation: the last turns, no gaps).</summary>
    public static IReadOnlyList<int> Pack(IReadOnlyList<string> texts, IEnumerable<int> byPriority, int budget, Func<string, int> countTokens, bool contiguous = false)
    {
        var chosen = new SortedSet<int>();
        int partsTokens = 0;
        foreach (int i in byPriority)
        {
            int n = countTokens(texts[i]);
            // The parts alone over B: the joined context (separators added) is too, so the exact count is not needed.
            bool fits = partsTokens + n <= budget && countTokens(Join(texts, [.. chosen, i])) <= budget;
            if (!fits)
            {
                if (contiguous) break;
                continue;
            }
            chosen.Add(i);
            partsTokens += n;
        }
        return [.. chosen];
    }

    public static string Join(IReadOnlyList<string> texts, IEnumerable<int> indices) => string.Join(Separator, indices.Order().Select(i => texts[i]));
}
