namespace Whetstone.Tokenization;

/// <summary>
/// Learns byte-level BPE merges from a corpus: the classic algorithm (repeatedly merge the most
/// frequent adjacent pair) over the pre-tokens of the chosen style, so no merge crosses a
/// pre-token boundary. Meant for the small tokenizers of models we pretrain from scratch and for
/// tests; it recounts every pair per merge, which is fine for corpora of a few megabytes.
/// </summary>
public static class ByteLevelBpeTrainer
{
    /// <param name="corpus">Training texts.</param>
    /// <param name="mergeCount">The most merges to learn; fewer when no pair occurs <paramref name="minimumPairCount"/> times.</param>
    /// <param name="style">Decides the pre-tokenizer pattern and normalization, as the written tokenizer will apply them.</param>
    /// <param name="minimumPairCount">Pairs seen fewer times are not merged.</param>
    /// <returns>Merges in rank order. Ties go to the ordinally smallest pair, so the result is deterministic.</returns>
    public static IReadOnlyList<BpeMerge> LearnMerges(
        IEnumerable<string> corpus,
        int mergeCount,
        ByteLevelTokenizerStyle style,
        int minimumPairCount = 2)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentOutOfRangeException.ThrowIfNegative(mergeCount);
        var conventions = ByteLevelStyleConventions.For(style);
        var words = CountWords(corpus, conventions);

        var merges = new List<BpeMerge>(mergeCount);
        while (merges.Count < mergeCount)
        {
            var best = MostFrequentPair(words);
            if (best is not var (merge, count) || count < minimumPairCount) break;
            merges.Add(merge);
            foreach (var word in words) ApplyMerge(word.Symbols, merge);
        }
        return merges;
    }

    private sealed record Word(List<string> Symbols, long Count);

    private static List<Word> CountWords(IEnumerable<string> corpus, ByteLevelStyleConventions conventions)
    {
        var regex = new CodePointRegex(conventions.PreTokenizerPattern, "pre-tokenizer pattern");
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var pieces = new List<string>();
        foreach (string text in corpus)
        {
            pieces.Clear();
            regex.SplitIsolated(conventions.NormalizeNfc ? NfcNormalizer.Normalize(text) : text, pieces);
            foreach (string piece in pieces)
            {
                string word = ByteLevelAlphabet.Encode(piece);
                counts[word] = counts.GetValueOrDefault(word) + 1;
            }
        }
        return counts
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => new Word(pair.Key.Select(c => c.ToString()).ToList(), pair.Value))
            .ToList();
    }

    private static (BpeMerge Merge, long Count)? MostFrequentPair(List<Word> words)
    {
        var counts = new Dictionary<BpeMerge, long>();
        foreach (var word in words)
        {
            for (int i = 0; i + 1 < word.Symbols.Count; i++)
            {
                var pair = new BpeMerge(word.Symbols[i], word.Symbols[i + 1]);
                counts[pair] = counts.GetValueOrDefault(pair) + word.Count;
            }
        }

        (BpeMerge Merge, long Count)? best = null;
        foreach (var (pair, count) in counts)
        {
            if (best is not var (bestPair, bestCount) || count > bestCount || (count == bestCount && IsOrdinallyBefore(pair, bestPair)))
                best = (pair, count);
        }
        return best;
    }

    private static bool IsOrdinallyBefore(BpeMerge a, BpeMerge b)
    {
        int left = string.CompareOrdinal(a.Left, b.Left);
        return left < 0 || (left == 0 && string.CompareOrdinal(a.Right, b.Right) < 0);
    }

    private static void ApplyMerge(List<string> symbols, BpeMerge merge)
    {
        for (int i = 0; i + 1 < symbols.Count; i++)
        {
            if (symbols[i] == merge.Left && symbols[i + 1] == merge.Right)
            {
                symbols[i] = merge.Merged;
                symbols.RemoveAt(i + 1);
            }
        }
    }
}
