using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Whetstone.Tokenization;

/// <summary>
/// A pre-tokenizer regex run with the code-point semantics of Hugging Face's Oniguruma engine.
/// </summary>
/// <remarks>
/// .NET regexes match UTF-16 code units, so a character outside the Basic Multilingual Plane (an
/// emoji, a rare CJK ideograph, a mathematical letter) is two surrogates that match neither \p{L}
/// nor a single-character class. Oniguruma sees one code point: "😀abc" is one pre-token for Qwen2
/// there ([^\r\n\p{L}\p{N}]?\p{L}+) but two in .NET. We therefore match against a shadow string in
/// which each such code point is replaced by one BMP character of the same Unicode category, and
/// map the match boundaries back.
/// </remarks>
internal sealed class CodePointRegex
{
    private readonly Regex _regex;

    /// <param name="pattern">The pattern as written in tokenizer.json.</param>
    /// <param name="field">Where the pattern came from, for error messages.</param>
    public CodePointRegex(string pattern, string field)
    {
        try
        {
            _regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"tokenizer.json: {field} '{pattern}' is not a pattern .NET can run: {e.Message}", e);
        }
    }

    /// <summary>
    /// Splits <paramref name="text"/> like Hugging Face's Split with behavior "Isolated": every match
    /// and every gap between matches becomes its own piece; empty pieces are dropped.
    /// </summary>
    public void SplitIsolated(string text, List<string> pieces)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            int last = 0;
            foreach (ValueMatch match in _regex.EnumerateMatches(text))
            {
                if (match.Length == 0) continue;
                if (match.Index > last) pieces.Add(text[last..match.Index]);
                pieces.Add(text.Substring(match.Index, match.Length));
                last = match.Index + match.Length;
            }
            if (last < text.Length) pieces.Add(text[last..]);
            return;
        }

        var (shadow, originalIndex) = BuildShadow(text);
        int lastShadow = 0;
        foreach (ValueMatch match in _regex.EnumerateMatches(shadow))
        {
            if (match.Length == 0) continue;
            int end = match.Index + match.Length;
            if (match.Index > lastShadow) pieces.Add(text[originalIndex[lastShadow]..originalIndex[match.Index]]);
            pieces.Add(text[originalIndex[match.Index]..originalIndex[end]]);
            lastShadow = end;
        }
        if (lastShadow < shadow.Length) pieces.Add(text[originalIndex[lastShadow]..]);
    }

    /// <summary>One BMP character per code point; originalIndex[i] is where shadow char i starts in text.</summary>
    private static (string Shadow, int[] OriginalIndex) BuildShadow(string text)
    {
        var shadow = new StringBuilder(text.Length);
        var originalIndex = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            originalIndex.Add(i);
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                int codePoint = char.ConvertToUtf32(c, text[i + 1]);
                shadow.Append(ShadowChar(codePoint));
                i++;
            }
            else
            {
                // A lone surrogate reaches Rust as U+FFFD (the text crosses into UTF-8 first).
                shadow.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }
        originalIndex.Add(text.Length);
        return (shadow.ToString(), originalIndex.ToArray());
    }

    /// <summary>
    /// The BMP stand-in of a supplementary code point. Han ideographs (extension blocks) stay Han
    /// for patterns that name the script (Kimi's): U+4E00 (OtherLetter) or U+3005 (ModifierLetter),
    /// the same categories, so patterns that only name categories see no difference. The four Han
    /// marks outside the BMP that are punctuation or spacing marks have no Han BMP twin of their
    /// category and keep their category's stand-in.
    /// </summary>
    internal static char ShadowChar(int codePoint)
    {
        var category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        if (HanScript.IsSupplementaryHan(codePoint))
        {
            if (category == UnicodeCategory.OtherLetter) return '\u4E00';
            if (category == UnicodeCategory.ModifierLetter) return '\u3005';
        }
        return SameCategoryBmpChar(category);
    }

    /// <summary>
    /// A non-ASCII BMP character of the given category. None of them is whitespace, a line break or
    /// a letter that case-folds onto the ASCII literals of the family patterns ('s, 't, ...).
    /// </summary>
    internal static char SameCategoryBmpChar(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u00C0',
        UnicodeCategory.LowercaseLetter => '\u00E0',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u00AA',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        UnicodeCategory.SpaceSeparator => '\u00A0',
        UnicodeCategory.LineSeparator => '\u2028',
        UnicodeCategory.ParagraphSeparator => '\u2029',
        UnicodeCategory.Control => '\u0080',
        UnicodeCategory.Format => '\u00AD',
        UnicodeCategory.PrivateUse => '\uE000',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u00AB',
        UnicodeCategory.FinalQuotePunctuation => '\u00BB',
        UnicodeCategory.OtherPunctuation => '\u00A1',
        UnicodeCategory.MathSymbol => '\u00AC',
        UnicodeCategory.CurrencySymbol => '\u00A2',
        UnicodeCategory.ModifierSymbol => '\u00A8',
        UnicodeCategory.OtherSymbol => '\u00A6',
        _ => '\u0378', // OtherNotAssigned (Surrogate cannot occur for a whole code point)
    };
}
