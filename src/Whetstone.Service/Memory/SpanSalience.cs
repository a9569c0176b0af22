namespace Whetstone.Service.Memory;

/// <summary>A prior on a span's value that needs no model: how rare in the whole history the things
/// it says are. salience = Σ weight(w) / turns(w) over the span's distinct content words and exact
/// strings w, divided by their number; weight 2 for an exact string (name, number, date, key), 1 for
/// a content word; turns(w) from <see cref="HistoryWordCounts"/>. In [0, 2]. A fact said once ("My
/// dog is called Rex") keeps a high salience for ever; small talk that the conversation repeats
/// ("The weather was grey again") falls towards 0 as its words are said again — that is the fading
/// of small talk, measured against the whole history in a sketch of fixed size, not against the
/// few spans the memory still holds (the previous definition, which made a sentence look new again
/// as soon as its last copy was dropped). Words are <see cref="ExtractiveCompression"/>'s, compared
/// case-insensitively without punctuation. The engine adds it, weighted by
/// <see cref="MemoryPolicy.SalienceWeight"/>, to the model's loss increase. It is a hand-written
/// prior, not a model's signal: on the random tiny models of the results doc the loss increase
/// means nothing and this is what keeps stated facts over chatter.</summary>
internal static class SpanSalience
{
    public static double[] Of(IReadOnlyList<MemorySpan> spans, IReadOnlyList<int> wordCounts, Func<int, string> tokenText)
    {
        var salience = new double[spans.Count];
        for (int i = 0; i < spans.Count; i++)
        {
            var words = Informative(spans[i].Tokens, tokenText);
            if (words.Count == 0) continue;
            salience[i] = words.Sum(w => (w.Tier == ExtractiveCompression.Tier.Exact ? 2.0 : 1.0) / HistoryWordCounts.Count(wordCounts, w.Key)) / words.Count;
        }
        return salience;
    }

    /// <summary>The keys of a token run's distinct content words and exact strings (what a turn adds to the history's counts).</summary>
    public static IEnumerable<string> Keys(IReadOnlyList<int> tokens, Func<int, string> tokenText) => Informative(tokens, tokenText).Select(w => w.Key);

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
