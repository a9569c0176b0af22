using Whetstone.Tokenization;
using HfTokenizer = Tokenizers.DotNet.Tokenizer;

namespace Whetstone.Tokenization.Tests;

/// <summary>
/// Our ids and text against Hugging Face's Rust tokenizers (through Tokenizers.DotNet, which always
/// encodes with add_special_tokens and decodes with skip_special_tokens).
/// </summary>
public sealed class HuggingFaceParityTests
{
    public static TheoryData<string> TokenizerNames() => new(TestTokenizers.All);

    [Theory]
    [MemberData(nameof(TokenizerNames))]
    public void EncodeMatchesHuggingFaceOnCorpus(string name)
    {
        var ours = TestTokenizers.Load(name);
        using var reference = new HfTokenizer(TestTokenizers.TokenizerJson(name));

        var mismatches = new List<string>();
        foreach (string text in TokenizerCorpus.Texts.Append("qxz qxz"))
        {
            int[] expected = reference.Encode(text).Select(id => (int)id).ToArray();
            int[] actual = ours.Encode(text, addSpecialTokens: true).ToArray();
            if (!expected.SequenceEqual(actual))
                mismatches.Add($"{Escape(text)}\n  hf:   [{string.Join(",", expected)}]\n  ours: [{string.Join(",", actual)}]");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Theory]
    [MemberData(nameof(TokenizerNames))]
    public void WholeCorpusAsOneTextMatchesHuggingFace(string name)
    {
        var ours = TestTokenizers.Load(name);
        using var reference = new HfTokenizer(TestTokenizers.TokenizerJson(name));
        string text = string.Join("\n", TokenizerCorpus.Texts.Concat(TokenizerCorpus.Training()));

        Assert.Equal(reference.Encode(text).Select(id => (int)id), ours.Encode(text, addSpecialTokens: true));
    }

    [Theory]
    [MemberData(nameof(TokenizerNames))]
    public void DecodeSkippingSpecialTokensMatchesHuggingFace(string name)
    {
        var ours = TestTokenizers.Load(name);
        using var reference = new HfTokenizer(TestTokenizers.TokenizerJson(name));

        foreach (string text in TokenizerCorpus.Texts)
        {
            uint[] ids = reference.Encode(text);
            Assert.Equal(reference.Decode(ids), ours.Decode(ids.Select(id => (int)id), skipSpecialTokens: true));
        }
    }

    /// <summary>Random ids cut characters apart and put bytes together that are not UTF-8; both sides must replace them alike.</summary>
    [Theory]
    [MemberData(nameof(TokenizerNames))]
    public void DecodeOfRandomIdsMatchesHuggingFace(string name)
    {
        var ours = TestTokenizers.Load(name);
        using var reference = new HfTokenizer(TestTokenizers.TokenizerJson(name));
        var random = new Random(1234);

        for (int trial = 0; trial < 300; trial++)
        {
            uint[] ids = Enumerable.Range(0, random.Next(1, 12)).Select(_ => (uint)random.Next(ours.VocabSize)).ToArray();
            Assert.Equal(reference.Decode(ids), ours.Decode(ids.Select(id => (int)id), skipSpecialTokens: true));
        }
    }

    private static string Escape(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
