using System.Text;

namespace Whetstone.Tokenization.Tests;

public sealed class StreamingDecoderTests
{
    [Theory]
    [InlineData("🦀")] // four bytes
    [InlineData("語")] // three bytes
    [InlineData("é")] // two bytes
    public void ACharacterSplitAcrossByteTokensIsEmittedOnlyWhenComplete(string character)
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.ChatMl);
        int[] byteIds = Encoding.UTF8.GetBytes(character)
            .Select(b => tokenizer.TokenToId(HuggingFaceTokenizerTests.ByteToken(b))!.Value)
            .ToArray();
        var decoder = tokenizer.CreateStreamingDecoder();

        Assert.Equal("a", decoder.Append(tokenizer.TokenToId("a")!.Value));
        foreach (int id in byteIds[..^1]) Assert.Equal("", decoder.Append(id));
        Assert.Equal(character, decoder.Append(byteIds[^1]));
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void FlushReplacesAnUnfinishedCharacter()
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.ChatMl);
        var decoder = tokenizer.CreateStreamingDecoder();

        Assert.Equal("", decoder.Append(tokenizer.TokenToId(HuggingFaceTokenizerTests.ByteToken(0xF0))!.Value));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal("", decoder.Flush());
    }

    public static TheoryData<string> TokenizerNames() => new(TestTokenizers.All);

    [Theory]
    [MemberData(nameof(TokenizerNames))]
    public void AppendedPiecesPlusFlushEqualDecodeOnTheCorpus(string name)
    {
        var tokenizer = TestTokenizers.Load(name);
        foreach (string text in TokenizerCorpus.Texts)
        {
            var ids = tokenizer.Encode(text);
            foreach (bool skip in new[] { false, true })
            {
                var decoder = tokenizer.CreateStreamingDecoder(skip);
                string streamed = string.Concat(ids.Select(decoder.Append)) + decoder.Flush();
                Assert.Equal(tokenizer.Decode(ids, skip), streamed);
            }
        }
    }

    /// <summary>Random ids make invalid and truncated UTF-8 of every kind; holding back must never change the text.</summary>
    [Fact]
    public void AppendedPiecesPlusFlushEqualDecodeOnRandomIds()
    {
        var tokenizer = TestTokenizers.Load(TestTokenizers.ChatMl);
        var random = new Random(42);
        for (int trial = 0; trial < 2000; trial++)
        {
            int[] ids = Enumerable.Range(0, random.Next(1, 10)).Select(_ => random.Next(tokenizer.VocabSize)).ToArray();
            var decoder = tokenizer.CreateStreamingDecoder();
            var pieces = ids.Select(decoder.Append).ToList();
            pieces.Add(decoder.Flush());

            Assert.Equal(tokenizer.Decode(ids), string.Concat(pieces));
            Assert.All(pieces, piece => Assert.False(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), "a piece ends inside a surrogate pair"));
        }
    }
}
