using Whetstone.Tokenization;

namespace Whetstone.Tokenization.Tests;

public sealed class HuggingFaceTokenizerTests
{
    // add_prefix_space inserts a space that decodes back, so that tokenizer does not round-trip by design.
    public static TheoryData<string> RoundTripTokenizerNames() => new(TestTokenizers.ChatMl, TestTokenizers.Llama3, TestTokenizers.Gpt2);

    [Theory]
    [MemberData(nameof(RoundTripTokenizerNames))]
    public void DecodeOfEncodeGivesTheTextBack(string name)
    {
        var tokenizer = TestTokenizers.Load(name);
        foreach (string text in TokenizerCorpus.Texts)
        {
            // ChatMl normalizes to NFC; the others keep the text as written.
            string expected = name == TestTokenizers.ChatMl ? NfcNormalizer.Normalize(text) : text;
            // GPT-2's lstrip and rstrip tokens swallow the spaces beside them, as in Hugging Face.
            if (name == TestTokenizers.Gpt2)
                expected = expected.Replace("x  <mask>", "x<mask>").Replace("a <mask>", "a<mask>").Replace("<rs>   ", "<rs>");
            Assert.Equal(expected, tokenizer.Decode(tokenizer.Encode(text)));
        }
    }

    [Fact]
    public void MergesAreAppliedSoCommonWordsBecomeSingleTokens()
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.ChatMl);
        var ids = tokenizer.Encode(" the");
        Assert.Equal(["Ġthe"], ids.Select(id => tokenizer.IdToToken(id)));
        Assert.Equal(ids[0], tokenizer.TokenToId("Ġthe"));
    }

    [Fact]
    public void IgnoreMergesMapsAWholePreTokenFoundInTheVocabularyToItsId()
    {
        var llama3 = TestTokenizers.Load(TestTokenizers.Llama3);
        var chatMl = TestTokenizers.Load(TestTokenizers.ChatMl);

        Assert.Equal([llama3.TokenToId("qxz")!.Value], llama3.Encode("qxz"));
        Assert.Equal(["q", "xz"], chatMl.Encode("qxz").Select(id => chatMl.IdToToken(id)));
    }

    [Fact]
    public void SpecialTokensInTextEncodeAsOneIdAndDecodeBack()
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.ChatMl);
        int start = tokenizer.TokenToId("<|im_start|>")!.Value;
        int end = tokenizer.TokenToId("<|im_end|>")!.Value;

        var ids = tokenizer.Encode("<|im_start|>user\nHi<|im_end|>");

        Assert.Equal(start, ids[0]);
        Assert.Equal(end, ids[^1]);
        Assert.True(tokenizer.IsSpecialToken(start));
        Assert.Equal("<|im_start|>user\nHi<|im_end|>", tokenizer.Decode(ids));
        Assert.Equal("user\nHi", tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("<|im_end|>", tokenizer.Decode([end]));
    }

    [Fact]
    public void NonSpecialAddedTokensSurviveSkipSpecialTokens()
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.Gpt2);
        var ids = tokenizer.Encode("<think>x<|endoftext|>");

        Assert.Equal(tokenizer.TokenToId("<think>"), ids[0]);
        Assert.Equal("<think>x", tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Llama3AddsBeginOfTextOnlyWhenAskedAndChatMlAddsNothing()
    {
        var llama3 = TestTokenizers.Load(TestTokenizers.Llama3);
        var chatMl = TestTokenizers.Load(TestTokenizers.ChatMl);
        int bos = llama3.TokenToId("<|begin_of_text|>")!.Value;

        Assert.Equal([bos, .. llama3.Encode("Hello")], llama3.Encode("Hello", addSpecialTokens: true));
        Assert.Equal([bos], llama3.Encode("", addSpecialTokens: true));
        Assert.Equal(chatMl.Encode("Hello"), chatMl.Encode("Hello", addSpecialTokens: true));
    }

    [Fact]
    public void ByteTokensComeFirstInGpt2OrderAndVocabSizeCountsAddedTokens()
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.ChatMl);

        Assert.Equal("!", tokenizer.IdToToken(0));
        Assert.Equal("Ġ", tokenizer.IdToToken(tokenizer.Encode(" ")[0]));
        Assert.Equal(tokenizer.TokenToId("<|im_end|>")!.Value + 1, tokenizer.VocabSize);
        Assert.Null(tokenizer.IdToToken(tokenizer.VocabSize));
        Assert.Null(tokenizer.TokenToId("not a token"));
    }

    [Fact]
    public void DecodeSkipsUnknownIdsAndReplacesBrokenUtf8()
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.ChatMl);
        int firstByteOfEuro = tokenizer.TokenToId(ByteToken(0xE2))!.Value;

        Assert.Equal("a\uFFFDb", tokenizer.Decode([.. tokenizer.Encode("a"), firstByteOfEuro, -1, 1 << 20, .. tokenizer.Encode("b")]));
    }

    [Fact]
    public void ConcurrentEncodingGivesTheSameIds()
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.Llama3);
        var expected = TokenizerCorpus.Texts.Select(t => tokenizer.Encode(t).ToArray()).ToArray();
        var fresh = TestTokenizers.Load(TestTokenizers.Llama3);

        Parallel.For(0, 64, i =>
        {
            int index = i % TokenizerCorpus.Texts.Length;
            Assert.Equal(expected[index], fresh.Encode(TokenizerCorpus.Texts[index]));
        });
    }

    internal static string ByteToken(byte b) => ByteLevelAlphabetForTests.CharOf(b).ToString();
}
