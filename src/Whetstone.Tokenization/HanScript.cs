namespace Whetstone.Tokenization;

/// <summary>
/// The code points of Unicode's Script=Han, which Kimi's pre-tokenizer names as \p{Han} and
/// .NET regexes cannot (they know general categories and blocks, not scripts).
/// </summary>
/// <remarks>
/// Script, not Script_Extensions: tiktoken's regex engine reads a bare \p{Han} as the script, so
/// CJK punctuation such as 、 (U+3001, Han only by extension) is not Han there. Ranges taken from
/// the Unicode Character Database (Scripts.txt); the tests check them character by character
/// against an independent engine's \p{Han} at the edges.
/// </remarks>
internal static class HanScript
{
    /// <summary>The ranges inside the Basic Multilingual Plane, as the inside of a .NET character class.</summary>
    public const string BmpClass = @"\u2E80-\u2E99\u2E9B-\u2EF3\u2F00-\u2FD5\u3005\u3007\u3021-\u3029\u3038-\u303B\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFA6D\uFA70-\uFAD9";

    private static readonly (int First, int Last)[] SupplementaryRanges =
    [
        (0x16FE2, 0x16FE3), (0x16FF0, 0x16FF6), (0x20000, 0x2A6DF), (0x2A700, 0x2B81D), (0x2B820, 0x2CEAD),
        (0x2CEB0, 0x2EBE0), (0x2EBF0, 0x2EE5D), (0x2F800, 0x2FA1D), (0x30000, 0x3134A), (0x31350, 0x33479),
    ];

    /// <summary>Whether a code point outside the BMP is Han (rare ideographs of the extension blocks).</summary>
    public static bool IsSupplementaryHan(int codePoint)
    {
        foreach (var (first, last) in SupplementaryRanges)
        {
            if (codePoint < first) return false;
            if (codePoint <= last) return true;
        }
        return false;
    }
}
