using System.Globalization;
using System.Text;

namespace Whetstone.Tokenization;

/// <summary>A run of text, or one matched added token (TokenId >= 0).</summary>
internal readonly record struct TextSegment(string Text, int TokenId)
{
    public bool IsAddedToken => TokenId >= 0;
}

/// <summary>
/// Finds added tokens in text the way Hugging Face's AddedVocabulary does: leftmost-longest,
/// non-overlapping matches, honouring single_word, lstrip and rstrip.
/// </summary>
internal sealed class AddedTokenMatcher
{
    // Candidates by first character, longest first, so the first hit at a position is the longest.
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;

    /// <param name="entries">Each token with the text to look for (its content, normalized when the token is).</param>
    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> entries)
    {
        _byFirstChar = entries
            .Where(e => e.Pattern.Length > 0)
            .GroupBy(e => e.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(e => e.Pattern.Length).ToArray());
    }

    public void Split(string text, List<TextSegment> segments)
    {
        if (_byFirstChar.Count == 0)
        {
            if (text.Length > 0) segments.Add(new TextSegment(text, -1));
            return;
        }

        int emittedUpTo = 0;
        int searchFrom = 0;
        while (FindLeftmostLongest(text, searchFrom) is var (matchStart, pattern, token))
        {
            int start = matchStart;
            int stop = matchStart + pattern.Length;
            searchFrom = stop;

            if (token.SingleWord && (EndsWithWordChar(text, start) || StartsWithWordChar(text, stop))) continue;
            if (token.LeftStrip)
            {
                while (start > emittedUpTo && char.IsWhiteSpace(text[start - 1])) start--;
            }
            if (token.RightStrip)
            {
                while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
                searchFrom = stop;
            }

            if (emittedUpTo < start) segments.Add(new TextSegment(text[emittedUpTo..start], -1));
            segments.Add(new TextSegment(text[start..stop], token.Id));
            emittedUpTo = stop;
        }
        if (emittedUpTo < text.Length) segments.Add(new TextSegment(text[emittedUpTo..], -1));
    }

    private (int Start, string Pattern, AddedToken Token)? FindLeftmostLongest(string text, int from)
    {
        for (int i = from; i < text.Length; i++)
        {
            if (!_byFirstChar.TryGetValue(text[i], out var candidates)) continue;
            foreach (var (pattern, token) in candidates)
            {
                if (text.AsSpan(i).StartsWith(pattern, StringComparison.Ordinal)) return (i, pattern, token);
            }
        }
        return null;
    }

    private static bool EndsWithWordChar(string text, int end) =>
        end > 0 && Rune.DecodeLastFromUtf16(text.AsSpan(0, end), out var rune, out _) == System.Buffers.OperationStatus.Done && IsWordRune(rune);

    private static bool StartsWithWordChar(string text, int start) =>
        start < text.Length && Rune.DecodeFromUtf16(text.AsSpan(start), out var rune, out _) == System.Buffers.OperationStatus.Done && IsWordRune(rune);

    // Rust regex's \w: letters, marks, decimal digits, connector punctuation (and letter numbers, being alphabetic).
    private static bool IsWordRune(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.DecimalDigitNumber
            or UnicodeCategory.LetterNumber or UnicodeCategory.ConnectorPunctuation => true,
        _ => false,
    };
}
