using Whetstone.Engine.Formats;
using Whetstone.Engine.Formats.Gguf;
using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Tests.Training;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

public class GgufConversionTests
{
    static readonly string[] Corpus =
    [
        "Hello world! The quick brown fox jumps over the lazy dog.",
        "Numbers 1234567 and 3.14159, tabs\tand\nnew lines\r\n  indented.",
        "<|im_start|>user\nWhat's up?<|im_end|> <|begin_of_text|>Café naïve 日本語 🙂",
        "   leading spaces, trailing   ",
    ];

    static string RandomModel(ModelFamily family, bool tied, RopeScaling? scaling = null)
    {
        var style = family == ModelFamily.Llama ? ByteLevelTokenizerStyle.Llama3 : ByteLevelTokenizerStyle.ChatMl;
        var directory = Path.Combine(TestModels.TempDirectory(), "base");
        RandomModelWriter.Write(directory, new RandomModelSpec
        {
            Family = family, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            HeadDim = family == ModelFamily.Qwen3 ? 12 : null, IntermediateSize = 64, TieWordEmbeddings = tied,
            RopeScaling = scaling ?? RopeScaling.None, TokenizerStyle = style, Seed = 7,
            Merges = ByteLevelBpeTrainer.LearnMerges(Corpus.Concat(Corpus), 40, style),
        });
        return directory;
    }

    static float MaxLogitDifference(CausalLanguageModel expected, CausalLanguageModel actual, int vocab)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = TestModels.RandomTokens(2, 11, vocab, seed: 4);
        return (expected.Logits(expected.Forward(tokens)) - actual.Logits(actual.Forward(tokens))).abs().max().item<float>();
    }

    [Theory]
    [InlineData(ModelFamily.Llama, false)]
    [InlineData(ModelFamily.Llama, true)]
    [InlineData(ModelFamily.Qwen2, false)]
    [InlineData(ModelFamily.Qwen2, true)]
    [InlineData(ModelFamily.Qwen3, false)]
    [InlineData(ModelFamily.Qwen3, true)]
    public void ExportThenImportGivesIdenticalLogitsAndTokenIds(ModelFamily family, bool tied)
    {
        var source = RandomModel(family, tied);
        var gguf = Path.Combine(TestModels.TempDirectory(), "model.gguf");
        GgufExporter.Export(source, gguf, ScalarType.Float32);
        var imported = Path.Combine(TestModels.TempDirectory(), "imported");
        GgufImporter.Import(gguf, imported);

        using var before = PretrainedModel.Load(source);
        using var after = PretrainedModel.Load(imported);
        Assert.Equal(before.Config with { EosTokenIds = [], TorchDtype = "float32" }, after.Config with { EosTokenIds = [], TorchDtype = "float32" });
        Assert.Equal(0f, MaxLogitDifference(before.Network, after.Network, before.Config.VocabSize));
        foreach (var text in Corpus)
        {
            Assert.Equal(before.Tokenizer.Encode(text), after.Tokenizer.Encode(text));
            Assert.Equal(before.Tokenizer.Encode(text, addSpecialTokens: true), after.Tokenizer.Encode(text, addSpecialTokens: true));
        }
        Assert.Equal(before.Tokenizer.BosTokenId, after.Tokenizer.BosTokenId);
        Assert.Equal(before.Tokenizer.EosTokenIds[0], after.Tokenizer.EosTokenIds[0]);
    }

    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen2)]
    [InlineData(ModelFamily.Qwen3)]
    public void ExportWritesLlamaCppNamesAndKeys(ModelFamily family)
    {
        var source = RandomModel(family, tied: false);
        var gguf = Path.Combine(TestModels.TempDirectory(), "model.gguf");
        GgufExporter.Export(source, gguf, ScalarType.BFloat16);
        var file = new GgufFile(gguf);
        var m = file.Metadata;
        string arch = family.ModelType();
        var config = ModelConfig.Load(source);

        Assert.Equal(arch, m.String("general.architecture"));
        Assert.Equal(32L, m.Integer("general.file_type"));
        Assert.Equal(config.HiddenSize, m.Integer($"{arch}.embedding_length"));
        Assert.Equal(config.NumHiddenLayers, m.Integer($"{arch}.block_count"));
        Assert.Equal(config.NumKeyValueHeads, m.Integer($"{arch}.attention.head_count_kv"));
        Assert.Equal(config.HeadDim, m.Integer($"{arch}.attention.key_length"));
        Assert.Equal("gpt2", m.String("tokenizer.ggml.model"));
        Assert.Equal(family == ModelFamily.Llama ? "llama-bpe" : "qwen2", m.String("tokenizer.ggml.pre"));
        Assert.Equal(family == ModelFamily.Llama, m.OptionalBool("tokenizer.ggml.add_bos_token"));
        var tokens = m.Array<string>("tokenizer.ggml.tokens");
        var types = m.Array<int>("tokenizer.ggml.token_type");
        Assert.Equal(config.VocabSize, tokens.Length);
        int endOfTurn = Array.IndexOf(tokens, family == ModelFamily.Llama ? "<|eot_id|>" : "<|im_end|>");
        Assert.Equal((int)GgufTokenType.Control, types[endOfTurn]);
        Assert.Equal(endOfTurn, m.Integer("tokenizer.ggml.eos_token_id"));
        Assert.Equal((int)GgufTokenType.Unused, types[^1]);
        Assert.Equal($"[PAD{tokens.Length - 1}]", tokens[^1]);
        Assert.Equal(40, m.Array<string>("tokenizer.ggml.merges").Length);

        Assert.Equal(GgufTensorType.BF16, file.Type("blk.1.ffn_down.weight"));
        Assert.Equal(GgufTensorType.F32, file.Type("blk.1.attn_norm.weight"));
        Assert.Equal([config.VocabSize, config.HiddenSize], file.Shape("output.weight"));
        Assert.Equal(family == ModelFamily.Qwen2, file.Contains("blk.0.attn_q.bias"));
        Assert.Equal(family == ModelFamily.Qwen3, file.Contains("blk.0.attn_k_norm.weight"));

        // Llama's q rows are permuted, Qwen's are not.
        using var scope = NewDisposeScope();
        using var checkpoint = new CheckpointTensors(source);
        var q = checkpoint.Read("model.layers.0.self_attn.q_proj.weight", checkpoint.Shape("model.layers.0.self_attn.q_proj.weight"), ScalarType.BFloat16);
        Assert.Equal(family != ModelFamily.Llama, file.Read("blk.0.attn_q.weight").equal(q).all().item<bool>());
    }

    [Fact]
    public void Llama3RopeScalingBecomesRopeFreqs()
    {
        var scaling = new RopeScaling { Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 64 };
        var source = RandomModel(ModelFamily.Llama, tied: true, scaling);
        var gguf = Path.Combine(TestModels.TempDirectory(), "model.gguf");
        GgufExporter.Export(source, gguf, ScalarType.Float16);
        var file = new GgufFile(gguf);
        Assert.False(file.Contains("output.weight"));
        var factors = file.Read("rope_freqs.weight").data<float>().ToArray();
        Assert.Equal(4, factors.Length);   // head_dim 8 / 2
        Assert.Equal(1f, factors[0]);      // the fastest pair is never stretched
        Assert.Equal(8f, factors[^1]);     // the slowest is divided by the full factor
    }

    [Fact]
    public void ImportRecoversLlama3RopeScalingFromRopeFreqs()
    {
        var scaling = new RopeScaling { Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 64 };
        var source = RandomModel(ModelFamily.Llama, tied: false, scaling);
        var gguf = Path.Combine(TestModels.TempDirectory(), "model.gguf");
        GgufExporter.Export(source, gguf, ScalarType.Float32);
        var imported = Path.Combine(TestModels.TempDirectory(), "imported");
        var config = GgufImporter.Import(gguf, imported);

        Assert.Equal(scaling, config.RopeScaling);
        using var before = PretrainedModel.Load(source);
        using var after = PretrainedModel.Load(imported);
        Assert.Equal(0f, MaxLogitDifference(before.Network, after.Network, before.Config.VocabSize));
    }

    [Fact]
    public void LinearRopeScalingRoundTripsThroughTheScalingKeys()
    {
        var scaling = new RopeScaling { Type = "linear", Factor = 4 };
        var source = RandomModel(ModelFamily.Qwen2, tied: true, scaling);
        var gguf = Path.Combine(TestModels.TempDirectory(), "model.gguf");
        GgufExporter.Export(source, gguf, ScalarType.Float32);
        Assert.Equal("linear", new GgufFile(gguf).Metadata.String("qwen2.rope.scaling.type"));
        var config = GgufImporter.Import(gguf, Path.Combine(TestModels.TempDirectory(), "imported"));
        Assert.Equal(scaling, config.RopeScaling);
    }

    [Theory]
    [InlineData(128, 500000.0, 8.0, 1.0, 4.0, 8192)]   // Llama 3.1 8B
    [InlineData(64, 500000.0, 32.0, 1.0, 4.0, 8192)]   // Llama 3.2 1B
    [InlineData(128, 500000.0, 8.0, 2.0, 8.0, 8192)]   // same factors as low 1, high 4, orig 4096
    public void Llama3ScalingFitReproducesEveryFactor(int headDim, double theta, double factor, double low, double high, int original)
    {
        var scaling = new RopeScaling { Type = "llama3", Factor = factor, LowFreqFactor = low, HighFreqFactor = high, OriginalMaxPositionEmbeddings = original };
        var factors = Llama3RopeFactors.Factors(scaling, theta, headDim);
        var recovered = Llama3RopeScalingFit.Recover(factors, theta, headDim, "test");
        Assert.Equal(factor, recovered.Factor);
        var again = Llama3RopeFactors.Factors(recovered, theta, headDim);
        for (int i = 0; i < factors.Length; i++) Assert.Equal(factors[i], again[i], 1e-5f);
        if (low == 1) Assert.Equal(scaling, recovered);
    }

    [Fact]
    public void ExportWithAdapterEqualsBaseWithAdapter()
    {
        var source = RandomModel(ModelFamily.Qwen3, tied: true);
        using var model = PretrainedModel.Load(source);
        using var adapter = TrainingTestData.RandomAdapter(model.Network, new LoraConfig { Rank = 4, Alpha = 8 }, seed: 6);
        var adapterDirectory = Path.Combine(TestModels.TempDirectory(), "adapter");
        PeftAdapter.Save(adapter, adapterDirectory, source);

        var gguf = Path.Combine(TestModels.TempDirectory(), "merged.gguf");
        GgufExporter.Export(source, gguf, ScalarType.Float32, adapterDirectory);
        var imported = Path.Combine(TestModels.TempDirectory(), "imported");
        GgufImporter.Import(gguf, imported);

        using var after = PretrainedModel.Load(imported);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = TestModels.RandomTokens(2, 9, model.Config.VocabSize, seed: 5);
        var adapters = AdapterBatch.For([adapter, adapter]);
        var expected = model.Network.Logits(model.Network.Forward(tokens, adapters: adapters), adapters);
        var actual = after.Network.Logits(after.Network.Forward(tokens));
        Assert.True((expected - actual).abs().max().item<float>() < 1e-4, $"|Δlogits| = {(expected - actual).abs().max().item<float>():E3}");
    }
}
