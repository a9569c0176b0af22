namespace Whetstone.Service.Memory;

/// <summary>A prior on a span's value that needs no model: how much of what it says is said
/// nowhere else in the memory or the new turn. salience = (novel content words + 2 × novel exact
/// strings) / (content words + exact strings), in [0, 2]; words are
/// <see cref="ExtractiveCompression"/>'s, compared case-insensitively without punctuation. Small
/// talk that repeats what other spans say scores low; a span naming a person, place or number
/// that appears nowhere else scores high. The engine adds it, weighted by
/// <see cref="MemoryPolicy.SalienceWeight"/>, to the model's loss increase: on a model too weak
/// for its loss increase to mean anything (the random tiny models of the results doc) the prior
/// is what keeps stated facts over chatter.</summary>
internal static class SpanSalience
{
    public static double[] Of(IReadOnlyList<MemorySpan> spans, IReadOnlyList<int> incoming, Func<int, string> tokenText)
    {
        var words = spans.Select(s => Informative(s.Tokens, tokenText)).ToArray();
        var incomingWords = Informative(incoming, tokenText).Select(w => w.Key).ToHashSet(StringComparer.Ordinal);
        var salience = new double[spans.Count];
        for (int i = 0; i < spans.Count; i++)
        {
            if (words[i].Count == 0) continue;
            var elsewhere = new HashSet<string>(incomingWords, StringComparer.Ordinal);
            for (int j = 0; j < spans.Count; j++)
                if (j != i) elsewhere.UnionWith(words[j].Select(w => w.Key));
            double novel = words[i].Where(w => !elsewhere.Contains(w.Key)).Sum(w => w.Tier == ExtractiveCompression.Tier.Exact ? 2.0 : 1.0);
            salience[i] = novel / words[i].Count;
        }
        return salience;
    }

    /// <summary>The distinct content words and exact strings of a token run, keyed lower-case without punctuation.</summary>
    static List<(string Key, ExtractiveCompression.Tier Tier)> Informative(IReadOnlyList<int> tokens, Func<int, string> tokenText) =>
        ExtractiveCompression.Words(tokens, new float[tokens.Count], tokenText)
            .Where(w => w.Tier != ExtractiveCompression.Tier.Filler)
            .Select(w => (Key: Key(w.Text), w.Tier))
            .Where(w => w.Key.Length > 0)
            .DistinctBy(w => w.Key)
            .ToList();

    static string Key(string word) => new string(word.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();
}
