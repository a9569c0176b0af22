using System.Globalization;
using Whetstone.Tokenization;

namespace Whetstone.Tokenization.Tests;

public sealed class CodePointRegexTests
{
    private static List<string> Split(string pattern, string text)
    {
        var pieces = new List<string>();
        new CodePointRegex(pattern, "test").SplitIsolated(text, pieces);
        return pieces;
    }

    [Fact]
    public void DigitsSplitOneByOneForQwenAndInThreesForLlama3()
    {
        Assert.Equal(["1", "2", "3", "4", "5"], Split(PreTokenizerPatterns.Qwen2, "12345"));
        Assert.Equal(["123", "45"], Split(PreTokenizerPatterns.Llama3, "12345"));
        Assert.Equal(["12345"], Split(PreTokenizerPatterns.Gpt2, "12345"));
    }

    [Fact]
    public void AnEmojiBeforeLettersJoinsThemAsOneCodePoint()
    {
        // Oniguruma sees one code point, so [^\r\n\p{L}\p{N}]?\p{L}+ takes the emoji as its optional prefix.
        Assert.Equal(["😀abc"], Split(PreTokenizerPatterns.Qwen2, "😀abc"));
        Assert.Equal(["x", "😀yz"], Split(PreTokenizerPatterns.Llama3, "x😀yz"));
        Assert.Equal(["𝐀𝐁c", " 𠀀"], Split(PreTokenizerPatterns.Qwen2, "𝐀𝐁c 𠀀"));
    }

    [Fact]
    public void GapsBetweenMatchesBecomePiecesToo()
    {
        Assert.Equal(["a", "-", "b"], Split("[a-z]", "a-b"));
        Assert.Equal(["-", "a", "😀", "b", "--"], Split("[a-z]", "-a😀b--"));
    }

    [Fact]
    public void EveryShadowCharacterHasTheCategoryItStandsFor()
    {
        foreach (var category in Enum.GetValues<UnicodeCategory>().Where(c => c != UnicodeCategory.Surrogate))
        {
            char shadow = CodePointRegex.SameCategoryBmpChar(category);
            Assert.Equal(category, CharUnicodeInfo.GetUnicodeCategory(shadow));
            Assert.True(shadow > '\u007F' && !char.IsWhiteSpace(shadow) || category is UnicodeCategory.SpaceSeparator
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
        }
    }
}
