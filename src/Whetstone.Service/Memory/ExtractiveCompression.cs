using System.Text.RegularExpressions;

namespace Whetstone.Service.Memory;

/// <summary>The extractive refill: keeps whole words of a span, never parts of one, so what is kept
/// is still the exact string that was said. A word is a run of tokens with no whitespace between
/// them ("[2025-03-04]", "Rex.", "user.city" are one word each). Words are kept by tier, then by
/// value (the scorer's highest token value in the word), then earliest first, while they fit in k
/// tokens, and shown in their original order:
/// <list type="number">
/// <item>exact strings: words with a digit (numbers, dates, ids), key-like words ("user.city",
/// "order_id"), and capitalised words that do not open a sentence (names, places);</item>
/// <item>other content words;</item>
/// <item>function words, the turn's role labels, punctuation.</item>
/// </list>
/// Compressing by single tokens (the method before this one) broke names and numbers into pieces
/// that no reader could match; see docs/results/memory-diffusion.md.</summary>
internal static class ExtractiveCompression
{
    public enum Tier { Filler = 0, Content = 1, Exact = 2 }

    /// <summary>One word: its tokens' positions [Start, Start + Length) in the span, its text, tier and value.</summary>
    public sealed record Word(int Start, int Length, string Text, Tier Tier, float Value);

    static readonly HashSet<string> FunctionWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "the", "and", "or", "but", "so", "of", "to", "in", "on", "at", "for", "with", "by", "from", "as", "is", "are",
        "was", "were", "be", "been", "am", "i", "me", "my", "we", "our", "you", "your", "it", "its", "this", "that", "these",
        "those", "some", "a", "bit", "just", "then", "there", "here", "again", "very", "really", "also", "too", "do", "did",
        "have", "has", "had", "not", "no", "yes", "ok", "okay", "hi", "hello", "well", "oh", "about", "up", "out", "now",
        "user", "assistant", "system",
    };

    /// <summary>The span's tokens grouped into words, from each token's text (<paramref name="tokenText"/>).</summary>
    public static IReadOnlyList<Word> Words(IReadOnlyList<int> tokens, IReadOnlyList<float> values, Func<int, string> tokenText)
    {
        var pieces = tokens.Select(tokenText).ToArray();
        var words = new List<Word>();
        int start = 0;
        for (int i = 1; i <= tokens.Count; i++)
        {
            // Whitespace before a word belongs to it (tokenizers that make spaces tokens of their own), so a kept word keeps its space.
            bool hasText = Enumerable.Range(start, i - start).Any(t => pieces[t].Any(c => !char.IsWhiteSpace(c)));
            bool boundary = i == tokens.Count || hasText && (StartsWithSpace(pieces[i]) || EndsWithSpace(pieces[i - 1]));
            if (!boundary) continue;
            string text = string.Concat(pieces[start..i]);
            float value = Enumerable.Range(start, i - start).Max(t => values[t]);
            bool opensSentence = words.Count == 0 || OpensSentenceAfter(words[^1].Text) || text.TrimEnd().Contains('\n');
            words.Add(new Word(start, i - start, text, TierOf(text.Trim(), opensSentence), value));
            start = i;
        }
        return words;
    }

    /// <summary>The positions of the span's tokens to keep (ascending), at most <paramref name="k"/>.</summary>
    public static int[] Keep(IReadOnlyList<int> tokens, IReadOnlyList<float> values, int k, Func<int, string> tokenText)
    {
        var kept = new List<Word>();
        int room = k;
        foreach (var word in Words(tokens, values, tokenText).OrderByDescending(w => w.Tier).ThenByDescending(w => w.Value).ThenBy(w => w.Start))
        {
            if (word.Length > room) continue;
            kept.Add(word);
            room -= word.Length;
        }
        return kept.SelectMany(w => Enumerable.Range(w.Start, w.Length)).Order().ToArray();
    }

    public static Tier TierOf(string word, bool opensSentence)
    {
        string core = word.Trim('.', ',', ';', ':', '!', '?', '"', '\'', '(', ')');
        if (core.Length == 0 || !core.Any(char.IsLetterOrDigit)) return Tier.Filler;
        if (core.Any(char.IsDigit)) return Tier.Exact;
        if (Regex.IsMatch(core, @"^\w+([._]\w+)+$")) return Tier.Exact;
        if (FunctionWords.Contains(core)) return Tier.Filler;
        if (char.IsUpper(core[0]) && !opensSentence) return Tier.Exact;
        return Tier.Content;
    }

    static bool StartsWithSpace(string piece) => piece.Length > 0 && char.IsWhiteSpace(piece[0]);
    static bool EndsWithSpace(string piece) => piece.Length > 0 && char.IsWhiteSpace(piece[^1]);

    /// <summary>After a word ending a sentence, a date tag "[…]", or a role label "user:", the next word opens a sentence.</summary>
    static bool OpensSentenceAfter(string previous)
    {
        string p = previous.TrimEnd();
        return p.Length == 0 || p[^1] is '.' or '!' or '?' or ':' or ']' or '\n';
    }
}
