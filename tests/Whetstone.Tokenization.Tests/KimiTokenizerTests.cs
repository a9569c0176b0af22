using System.Text;
using Whetstone.Tokenization;

namespace Whetstone.Tokenization.Tests;

/// <summary>
/// Kimi K2's tiktoken tokenizer (tiktoken.model + tokenizer_config.json) on files made here: the
/// expected ids are worked out by hand from tiktoken's rule (merge the adjacent pair whose
/// concatenation has the lowest rank), the expected pre-token splits come from running Moonshot's
/// published pat_str in an independent engine (Python's regex module, which has \p{Han} and class
/// intersection), and the special-token ids from the published tokenizer_config.json.
/// </summary>
public sealed class KimiTokenizerTests
{
    // Ranks 0..255 are the single bytes in byte order; then these sequences, rank 256 onwards.
    static readonly string[] Extra = ["ab", "bc", "abc", "aa", "aaaa", "qxz", " w", "or", " wor", "ld", "中文", "中文字"];

    static HuggingFaceTokenizer Small(out int firstSpecial)
    {
        var sequences = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).Concat(Extra.Select(Encoding.UTF8.GetBytes)).ToList();
        firstSpecial = sequences.Count;
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-kimi-tokenizer", Guid.NewGuid().ToString("N"));
        KimiTokenizerFiles.Write(directory, sequences);
        return HuggingFaceTokenizer.Load(directory);
    }

    static int Rank(string sequence) => 256 + Array.IndexOf(Extra, sequence);

    [Fact]
    public void MergesFollowTiktokensRankOfTheConcatenation()
    {
        var tokenizer = Small(out _);
        Assert.Equal([Rank("abc")], tokenizer.Encode("abc"));            // whole piece ranked
        Assert.Equal([Rank("abc"), 'd'], tokenizer.Encode("abcd"));      // ab (256) first, then ab+c = abc (258)
        Assert.Equal([Rank("bc"), 'b'], tokenizer.Encode("bcb"));        // b+c ranked, c+b not
        // aaaaa: a+a merges leftmost, then the next a+a; then aa+aa = aaaa is ranked, aa+a is not.
        Assert.Equal([Rank("aaaa"), 'a'], tokenizer.Encode("aaaaa"));
        // qxz is ranked but no pair inside it is: only the whole-piece rule reaches it.
        Assert.Equal([Rank("qxz")], tokenizer.Encode("qxz"));
        Assert.Equal(['q', 'x', 'z', 'q'], tokenizer.Encode("qxzq"));
        // " world": " w" (262) first, then o+r (263), " w"+"or" = " wor" (264), then l+d (265).
        Assert.Equal([Rank(" wor"), Rank("ld")], tokenizer.Encode(" world"));
        Assert.Equal("abcd world", tokenizer.Decode(tokenizer.Encode("abcd world")));
    }

    [Fact]
    public void HanRunsAreTheirOwnPieces()
    {
        var tokenizer = Small(out _);
        // 中文字 (9 UTF-8 bytes) is ranked whole; "English" after it is a piece of its own.
        Assert.Equal([Rank("中文字"), 'E', 'n', 'g', 'l', 'i', 's', 'h'], tokenizer.Encode("中文字English"));
        // 中文字符 is one piece, not ranked whole, and no pair of its bytes is ranked: 12 single bytes
        // (tiktoken never reaches 中文 without ranked steps in between).
        var ids = tokenizer.Encode("中文字符");
        Assert.Equal(Encoding.UTF8.GetBytes("中文字符").Select(b => (int)b), ids);
        Assert.Equal("中文字符", tokenizer.Decode(ids));
    }

    public static TheoryData<string, string[]> PublishedPatternSplits => new()
    {
        // Expected pieces: Moonshot's pat_str run by Python's regex module (V1), not by this code.
        { "Hello world, HelloWorld!", ["Hello", " world", ",", " Hello", "World", "!"] },
        { "I'm here; DON'T STOP'S", ["I'm", " here", ";", " DON'T", " STOP'S"] },
        { "中文字符English混合text", ["中文字符", "English", "混合", "text"] },
        { "12345 67", ["123", "45", " ", "67"] },
        { "  hi\n\n there  \t", [" ", " hi", "\n\n", " there", "  \t"] },
        { "\U00020000\U00020001abc", ["\U00020000\U00020001", "abc"] },   // CJK extension B is Han
        { "日本語のテキスト", ["日本語", "のテキスト"] },                 // kana are letters, not Han
        { "〇一二三 and 々", ["〇一二三", " and", " ", "々"] },             // 〇 (a number) and 々 are Han
        { "😀abc", ["😀abc"] },
        { "Ünïcödé CAFÉs", ["Ünïcödé", " CAFÉs"] },
        { "x\r\n\r\ny", ["x", "\r\n\r\n", "y"] },
        { "a、b。c", ["a", "、b", "。c"] },                                  // CJK punctuation is Han by extension only
        { "ſ's 'S", ["ſ's", " '", "S"] },
    };

    [Theory]
    [MemberData(nameof(PublishedPatternSplits))]
    public void PreTokenizationMatchesThePublishedPattern(string text, string[] expected)
    {
        Assert.Equal(expected, KimiPreTokenizer.Create().Split(text));
    }

    [Fact]
    public void AtK2sVocabularySizeTheSpecialTokensHaveThePublishedIds()
    {
        // 163,584 ranked sequences as in the released tiktoken.model: the 256 bytes, then distinct
        // two- and three-byte sequences. The ids below are the published tokenizer_config.json's.
        var sequences = new List<byte[]>(163_584);
        for (int b = 0; b < 256; b++) sequences.Add([(byte)b]);
        for (int i = 0; sequences.Count < 163_584; i++) sequences.Add(i < 65_536 ? [(byte)(i >> 8), (byte)i] : [(byte)(i >> 16), (byte)(i >> 8), (byte)i]);
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-kimi-tokenizer", Guid.NewGuid().ToString("N"));
        KimiTokenizerFiles.Write(directory, sequences);
        var tokenizer = HuggingFaceTokenizer.Load(directory);

        var published = new Dictionary<string, int>
        {
            ["[BOS]"] = 163584, ["[EOS]"] = 163585, ["<|im_end|>"] = 163586, ["<|im_user|>"] = 163587,
            ["<|im_assistant|>"] = 163588, ["<|start_header_id|>"] = 163590, ["<|end_header_id|>"] = 163591,
            ["[EOT]"] = 163593, ["<|im_system|>"] = 163594, ["<|tool_calls_section_begin|>"] = 163595,
            ["<|tool_calls_section_end|>"] = 163596, ["<|tool_call_begin|>"] = 163597,
            ["<|tool_call_argument_begin|>"] = 163598, ["<|tool_call_end|>"] = 163599, ["<|im_middle|>"] = 163601,
            ["<|media_begin|>"] = 163602, ["<|media_content|>"] = 163603, ["<|media_end|>"] = 163604,
            ["<|media_pad|>"] = 163605, ["<think>"] = 163606, ["</think>"] = 163607, ["[UNK]"] = 163838, ["[PAD]"] = 163839,
        };
        foreach (var (content, id) in published) Assert.Equal(id, tokenizer.TokenToId(content));
        Assert.Equal(163_840, tokenizer.VocabSize);                       // K2's config.json vocab_size
        Assert.Equal("<|reserved_token_163589|>", tokenizer.IdToToken(163589));
        Assert.Equal(163584, tokenizer.BosTokenId);
        Assert.Equal([163586], tokenizer.EosTokenIds);
        // Byte pairs are ranked 256 + 256·first + second here: "user" merges e+r (the lowest pair),
        // then u+s; "ser" is not ranked. "hi" is ranked whole.
        static int Pair(char a, char b) => 256 + 256 * a + b;
        int[] expected = [163587, Pair('u', 's'), Pair('e', 'r'), 163601, Pair('h', 'i'), 163586];
        Assert.Equal(expected, tokenizer.Encode("<|im_user|>user<|im_middle|>hi<|im_end|>"));
    }

    [Fact]
    public void SpecialTokensInTextBecomeOneIdAndDecodeBack()
    {
        var tokenizer = Small(out int first);
        var ids = tokenizer.Encode("<|im_assistant|>assistant<|im_middle|><think>abc</think>abc<|im_end|>");
        Assert.Equal(first + 4, ids[0]);
        Assert.Contains(first + 22, ids);
        Assert.Contains(first + 23, ids);
        Assert.Equal(first + 2, ids[^1]);
        Assert.Equal("<|im_assistant|>assistant<|im_middle|><think>abc</think>abc<|im_end|>", tokenizer.Decode(ids));
        Assert.Equal("assistantabcabc", tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.True(tokenizer.IsSpecialToken(first + 2));
    }

    [Fact]
    public void MalformedFilesAreRefusedNamingTheLineOrField()
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-kimi-tokenizer", Guid.NewGuid().ToString("N"));
        var sequences = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList();
        KimiTokenizerFiles.Write(directory, sequences);
        string model = Path.Combine(directory, "tiktoken.model");

        File.AppendAllText(model, "not-base64! 256\n");
        Assert.Contains("line 257", Assert.Throws<InvalidDataException>(() => HuggingFaceTokenizer.Load(directory)).Message);

        File.WriteAllLines(model, File.ReadAllLines(model).Take(255));   // drops byte 0xFF
        Assert.Contains("0xFF", Assert.Throws<InvalidDataException>(() => HuggingFaceTokenizer.Load(directory)).Message);

        KimiTokenizerFiles.Write(directory, sequences);
        string config = Path.Combine(directory, "tokenizer_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"256\"", "\"600\""));
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceTokenizer.Load(directory));
        Assert.Contains("added_tokens_decoder[\"600\"]", e.Message);
        Assert.Contains("256..511", e.Message);
    }
}
