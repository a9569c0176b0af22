using Whetstone.Tokenization;

namespace Whetstone.Tokenization.Tests;

public sealed class NfcNormalizerTests
{
    [Theory]
    [InlineData("e\u0301", "\u00E9")]                       // composes
    [InlineData("A\u030A", "\u00C5")]                       // to the letter, not the Angstrom sign
    [InlineData("\u212B", "\u00C5")]                        // singleton decomposition
    [InlineData("\u0958", "\u0915\u093C")]                  // composition exclusion stays decomposed
    [InlineData("q\u0307\u0323", "q\u0323\u0307")]          // marks sorted by combining class
    [InlineData("d\u0307\u0323", "\u1E0D\u0307")]           // sorted, then the dot below composes first
    [InlineData("\u1100\u1161\u11A8", "\uAC01")]            // Hangul jamo L V T
    [InlineData("\uAC00\u11A8", "\uAC01")]                  // Hangul LV + T
    [InlineData("\u0301e", "\u0301e")]                      // a leading mark has nothing to join
    [InlineData("\U0001D15E", "\U0001D157\U0001D165")]      // supplementary, excluded from composition
    [InlineData("plain ASCII and 中文", "plain ASCII and 中文")]
    public void NormalizesToNfc(string input, string expected) =>
        Assert.Equal(expected, NfcNormalizer.Normalize(input));

    [Fact]
    public void TextAlreadyInNfcIsReturnedAsIs()
    {
        string text = "café 中文 한국어 😀";
        Assert.Same(text, NfcNormalizer.Normalize(text));
    }
}
