using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Tokenization;
using HfTokenizer = Tokenizers.DotNet.Tokenizer;

namespace Whetstone.Tokenization.Tests;

public sealed class ByteLevelTokenizerFilesTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"whetstone-tokenizer-files-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void ChatMlFollowsQwenInstruct()
    {
        var written = ByteLevelTokenizerFiles.Write(_directory, ByteLevelTokenizerStyle.ChatMl);
        WriteGenerationConfig(written);
        var tokenizer = HuggingFaceTokenizer.Load(_directory);

        Assert.Equal(256 + 3, written.TokenCount);
        Assert.Equal(written.TokenCount, tokenizer.VocabSize);
        Assert.Null(tokenizer.BosTokenId);
        Assert.Equal([tokenizer.TokenToId("<|im_end|>")!.Value, tokenizer.TokenToId("<|endoftext|>")!.Value], tokenizer.EosTokenIds);
        Assert.Equal(tokenizer.TokenToId("<|endoftext|>"), tokenizer.PadTokenId);
        Assert.Equal(written.SpecialTokenIds["<|im_start|>"], tokenizer.TokenToId("<|im_start|>"));
    }

    [Fact]
    public void Llama3FollowsLlama3Instruct()
    {
        var written = ByteLevelTokenizerFiles.Write(_directory, ByteLevelTokenizerStyle.Llama3);
        WriteGenerationConfig(written);
        var tokenizer = HuggingFaceTokenizer.Load(_directory);

        Assert.Equal(256 + 5, written.TokenCount);
        Assert.Equal(tokenizer.TokenToId("<|begin_of_text|>"), tokenizer.BosTokenId);
        Assert.Equal(written.BosTokenId, tokenizer.BosTokenId);
        Assert.Equal([tokenizer.TokenToId("<|eot_id|>")!.Value, tokenizer.TokenToId("<|end_of_text|>")!.Value], tokenizer.EosTokenIds);
        Assert.Null(tokenizer.PadTokenId);
        Assert.Equal([tokenizer.BosTokenId!.Value, .. tokenizer.Encode("hi")], tokenizer.Encode("hi", addSpecialTokens: true));
    }

    [Fact]
    public void WithoutMergesEveryByteIsOneToken()
    {
        ByteLevelTokenizerFiles.Write(_directory, ByteLevelTokenizerStyle.ChatMl);
        var tokenizer = HuggingFaceTokenizer.Load(_directory);

        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount("héllo 世界"), tokenizer.Encode("héllo 世界").Count);
    }

    [Fact]
    public void GeneratedFilesLoadInHuggingFaceAndAgreeWithUs()
    {
        var merges = ByteLevelBpeTrainer.LearnMerges(TokenizerCorpus.Training(), 50, ByteLevelTokenizerStyle.Llama3);
        ByteLevelTokenizerFiles.Write(_directory, ByteLevelTokenizerStyle.Llama3, merges);
        using var reference = new HfTokenizer(Path.Combine(_directory, "tokenizer.json"));
        var tokenizer = HuggingFaceTokenizer.Load(_directory);

        Assert.Equal(reference.Encode("The theory, 1999.").Select(id => (int)id), tokenizer.Encode("The theory, 1999.", addSpecialTokens: true));
    }

    [Fact]
    public void ModelVocabSizeIsRoundedUpToTheRequestedMultiple()
    {
        var written = ByteLevelTokenizerFiles.Write(_directory, ByteLevelTokenizerStyle.ChatMl, vocabSizeMultiple: 64);

        Assert.Equal(259, written.TokenCount);
        Assert.Equal(320, written.ModelVocabSize);
    }

    [Fact]
    public void TokenizerConfigNamesTheSpecialTokensForTransformers()
    {
        ByteLevelTokenizerFiles.Write(_directory, ByteLevelTokenizerStyle.Llama3);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_directory, "tokenizer_config.json")));
        var root = config.RootElement;

        Assert.Equal("<|begin_of_text|>", root.GetProperty("bos_token").GetString());
        Assert.Equal("<|eot_id|>", root.GetProperty("eos_token").GetString());
        Assert.Equal("PreTrainedTokenizerFast", root.GetProperty("tokenizer_class").GetString());
        Assert.Contains("<|start_header_id|>", root.GetProperty("chat_template").GetString());
        Assert.Equal("<|eot_id|>", root.GetProperty("added_tokens_decoder").GetProperty("260").GetProperty("content").GetString());
    }

    [Fact]
    public void MergeOfUnknownTokensIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            ByteLevelTokenizerFiles.Write(_directory, ByteLevelTokenizerStyle.ChatMl, [new BpeMerge("a", "b"), new BpeMerge("abc", "d")]));
        Assert.Contains("merges[1]", error.Message);
        Assert.Contains("'abc'", error.Message);
    }

    [Fact]
    public void TrainerIsDeterministicAndMergesTheMostFrequentPairFirst()
    {
        string[] corpus = ["aaab aaab aaab", "ab ab"];
        var first = ByteLevelBpeTrainer.LearnMerges(corpus, 10, ByteLevelTokenizerStyle.Llama3);
        var second = ByteLevelBpeTrainer.LearnMerges(corpus, 10, ByteLevelTokenizerStyle.Llama3);

        Assert.Equal(first, second);
        // Pre-tokens: "aaab" x1, " aaab" x2, "ab" x1, " ab" x1. "a a" occurs 6 times, "a b" 5 times.
        Assert.Equal(new BpeMerge("a", "a"), first[0]);
        Assert.All(first, merge => Assert.DoesNotContain("Ġ", merge.Right));
    }

    [Fact]
    public void SpecialTokenConfigAcceptsContentObjectsAndSingleEosIds()
    {
        ByteLevelTokenizerFiles.Write(_directory, ByteLevelTokenizerStyle.ChatMl);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "tokenizer_config.json")))!.AsObject();
        config["eos_token"] = new JsonObject { ["__type"] = "AddedToken", ["content"] = "<|endoftext|>" };
        config["pad_token"] = null;
        File.WriteAllText(Path.Combine(_directory, "tokenizer_config.json"), config.ToJsonString());
        File.WriteAllText(Path.Combine(_directory, "generation_config.json"), "{\"bos_token_id\": 256, \"eos_token_id\": 258, \"pad_token_id\": 256}");

        var tokenizer = HuggingFaceTokenizer.Load(_directory);

        Assert.Equal([256, 258], tokenizer.EosTokenIds);
        Assert.Equal(256, tokenizer.BosTokenId);
        Assert.Equal(256, tokenizer.PadTokenId);
    }

    private void WriteGenerationConfig(GeneratedTokenizer written) =>
        File.WriteAllText(Path.Combine(_directory, "generation_config.json"), JsonSerializer.Serialize(new
        {
            bos_token_id = written.BosTokenId,
            eos_token_id = written.EosTokenIds,
            pad_token_id = written.PadTokenId,
        }));
}
