using Whetstone.Chat;
using Whetstone.Engine.ModelMaker;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>A kimi_k2 model made with init-model's writer in Kimi's own tokenizer format
/// (tiktoken.model + tokenizer_config.json, no tokenizer.json) loads its tokenizer, gets the
/// Kimi K2 renderer, and runs a rendered chat prompt.</summary>
public class KimiTokenizerModelTests
{
    [Fact]
    public void KimiTinyWithKimisTokenizerRendersAndRunsAChatPrompt()
    {
        var directory = TestModels.TempDirectory();
        var config = RandomModelWriter.Write(directory, RandomModelSpec.Preset("kimi-tiny") with { Seed = 5, KimiTokenizer = true });
        Assert.True(File.Exists(Path.Combine(directory, "tiktoken.model")));
        Assert.False(File.Exists(Path.Combine(directory, "tokenizer.json")));
        Assert.Equal("kimi_k2", config.ModelTypeName);

        var tokenizer = HuggingFaceTokenizer.Load(directory);
        Assert.Equal(256 + 256, tokenizer.VocabSize);                      // the bytes, no merges, the special ids
        Assert.Equal(tokenizer.TokenToId("<|im_end|>"), config.EosTokenIds.Single());
        Assert.True(config.VocabSize >= tokenizer.VocabSize);
        var renderer = RendererFactory.For(tokenizer);
        Assert.IsType<KimiK2Renderer>(renderer);

        var prompt = renderer.BuildGenerationPrompt([ChatMessage.User("What is 2+2?")]);
        Assert.Equal(tokenizer.TokenToId("<|im_middle|>"), prompt[^1]);
        using var network = TestModels.LoadNetwork(directory, ScalarType.Float32);
        using var _ = no_grad();
        var logits = network.Logits(network.Forward(tensor(prompt.Select(t => (long)t).ToArray()).unsqueeze(0)));
        Assert.Equal([1L, prompt.Count, config.VocabSize], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }
}
