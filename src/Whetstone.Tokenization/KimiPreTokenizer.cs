namespace Whetstone.Tokenization;

/// <summary>
/// Kimi K2's pre-tokenization regex (the pat_str of Moonshot's tokenization_kimi.py), in .NET
/// syntax. Runs of Han characters are pieces of their own; other letters split as in cl100k, with
/// case runs; digits in groups of up to three.
/// </summary>
/// <remarks>
/// The published pattern is written for tiktoken's engine: \p{Han} (a script) and class
/// intersection <c>[…&amp;&amp;[^\p{Han}]]</c>. Here \p{Han} is <see cref="HanScript.BmpClass"/> and the
/// intersection is .NET's class subtraction <c>[…-[Han]]</c>; Han code points outside the BMP
/// reach the regex as U+4E00 through <see cref="CodePointRegex"/>'s shadow string.
/// </remarks>
internal static class KimiPreTokenizer
{
    private const string Han = "[" + HanScript.BmpClass + "]";
    private const string UpperNotHan = @"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}-" + Han + "]";
    private const string LowerNotHan = @"[\p{Ll}\p{Lm}\p{Lo}\p{M}-" + Han + "]";
    private const string Contraction = "(?i:'s|'t|'re|'ve|'m|'ll|'d)?";

    public const string Pattern =
        Han + "+"
        + @"|[^\r\n\p{L}\p{N}]?" + UpperNotHan + "*" + LowerNotHan + "+" + Contraction
        + @"|[^\r\n\p{L}\p{N}]?" + UpperNotHan + "+" + LowerNotHan + "*" + Contraction
        + @"|\p{N}{1,3}"
        + @"| ?[^\s\p{L}\p{N}]+[\r\n]*"
        + @"|\s*[\r\n]+"
        + @"|\s+(?!\S)"
        + @"|\s+";

    public static PreTokenizerPipeline Create() =>
        new([PreTokenizerStep.Split(new CodePointRegex(Pattern, "Kimi's pat_str"))]);
}
