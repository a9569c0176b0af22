using Whetstone.Engine.Formats.Gguf;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Formats;

/// <summary>GGUF files written without each key llama.cpp treats as optional import with
/// llama.cpp's default for it; with all of them gone, llama.cpp and our import still agree.</summary>
public class GgufOptionalKeyTests
{
    static readonly string[] Corpus =
    [
        "Hello world! The quick brown fox jumps over the lazy dog.",
        "Numbers 1234567 and 3.14159, tabs\tand\nnew lines.",
    ];

    static string Exported(double ropeTheta = 10000, int kvHeads = 2, RopeScaling? scaling = null)
    {
        var style = ByteLevelTokenizerStyle.Llama3;
        var directory = Path.Combine(TestModels.TempDirectory(), "base");
        RandomModelWriter.Write(directory, new RandomModelSpec
        {
            Family = ModelFamily.Llama, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = kvHeads,
            IntermediateSize = 64, TieWordEmbeddings = false, RopeTheta = ropeTheta, RopeScaling = scaling ?? RopeScaling.None,
            TokenizerStyle = style, Seed = 5, Merges = ByteLevelBpeTrainer.LearnMerges(Corpus.Concat(Corpus), 40, style),
        });
        var gguf = Path.Combine(TestModels.TempDirectory(), "model.gguf");
        GgufExporter.Export(directory, gguf, ScalarType.Float32);
        return gguf;
    }

    /// <summary>The same file with <paramref name="edit"/> applied to a copy of its metadata.</summary>
    static string Rewritten(string gguf, Action<GgufMetadata> edit)
    {
        var file = new GgufFile(gguf);
        var metadata = new GgufMetadata();
        foreach (var (key, value) in file.Metadata.Entries) metadata.Set(key, value);
        edit(metadata);
        var stripped = new GgufMetadata();
        foreach (var (key, value) in metadata.Entries.Where(e => !Equals(e.Value, RemovedSentinel))) stripped.Set(key, value);
        using var scope = NewDisposeScope();
        var tensors = file.TensorNames.Select(n => new GgufTensor(n, file.Read(n), file.Type(n))).ToList();
        var path = Path.Combine(TestModels.TempDirectory(), "edited.gguf");
        GgufWriter.Write(path, stripped, tensors);
        return path;
    }

    /// <summary>GgufMetadata has no removal: edits set this marker and Rewritten drops the key.</summary>
    const string RemovedSentinel = "\u0000removed";

    static Action<GgufMetadata> Without(params string[] keys) => m =>
    {
        foreach (var key in keys) m.Set(key, RemovedSentinel);
    };

    static (ModelConfig Config, string Directory) Import(string gguf)
    {
        var directory = Path.Combine(TestModels.TempDirectory(), "imported");
        return (GgufImporter.Import(gguf, directory), directory);
    }

    static float MaxLogitDifference(string a, string b)
    {
        using var first = PretrainedModel.Load(a);
        using var second = PretrainedModel.Load(b);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = TestModels.RandomTokens(2, 9, first.Config.VocabSize, seed: 3);
        return (first.Network.Logits(first.Network.Forward(tokens)) - second.Network.Logits(second.Network.Forward(tokens))).abs().max().item<float>();
    }

    [Fact]
    public void MissingRopeFreqBaseIsTenThousand()
    {
        var gguf = Exported(ropeTheta: 500000);
        Assert.Equal(500000, Import(gguf).Config.RopeTheta);
        var (config, _) = Import(Rewritten(gguf, Without("llama.rope.freq_base")));
        Assert.Equal(GgufModelMetadata.DefaultRopeFreqBase, config.RopeTheta);
        Assert.Equal(10000, config.RopeTheta);
    }

    [Theory]
    [InlineData("llama.attention.head_count_kv")]
    [InlineData("llama.attention.key_length")]
    [InlineData("llama.attention.value_length")]
    [InlineData("llama.rope.dimension_count")]
    [InlineData("llama.feed_forward_length")]
    [InlineData("llama.vocab_size")]
    [InlineData("llama.rope.scaling.type")]
    [InlineData("general.alignment")]
    [InlineData("general.name")]
    [InlineData("general.file_type")]
    public void MissingKeyTakesTheDefaultTheFileWasWrittenWith(string key)
    {
        // kv heads = heads and head size = hidden / heads: the values llama.cpp defaults these keys to.
        var gguf = Exported(kvHeads: 4, scaling: new RopeScaling { Type = "linear", Factor = 2 });
        var (full, fullDirectory) = Import(gguf);
        var (stripped, strippedDirectory) = Import(Rewritten(gguf, Without(key)));
        Assert.Equal(full with { EosTokenIds = [] }, stripped with { EosTokenIds = [] });
        Assert.Equal(full.EosTokenIds, stripped.EosTokenIds);
        Assert.Equal(4, stripped.NumKeyValueHeads);
        Assert.Equal(8, stripped.HeadDim);
        Assert.Equal(64, stripped.IntermediateSize);
        Assert.Equal(("linear", 2.0), (stripped.RopeScaling.Type, stripped.RopeScaling.Factor));
        Assert.Equal(0f, MaxLogitDifference(fullDirectory, strippedDirectory));
    }

    [Fact]
    public void OldRopeScaleLinearKeyIsReadWhenScalingFactorIsMissing()
    {
        var gguf = Exported(scaling: new RopeScaling { Type = "linear", Factor = 2 });
        var (config, _) = Import(Rewritten(gguf, m =>
        {
            m.Set("llama.rope.scaling.factor", RemovedSentinel);
            m.Set("llama.rope.scaling.type", RemovedSentinel);
            m.Set("llama.rope.scale_linear", 4f);
        }));
        Assert.Equal(("linear", 4.0), (config.RopeScaling.Type, config.RopeScaling.Factor));
    }

    [Fact]
    public void PerLayerHeadCountArraysAreAcceptedWhenUniform()
    {
        var gguf = Exported();
        var (config, _) = Import(Rewritten(gguf, m =>
        {
            m.Set("llama.attention.head_count", new[] { 4, 4 });
            m.Set("llama.attention.head_count_kv", new[] { 2, 2 });
        }));
        Assert.Equal((4, 2), (config.NumAttentionHeads, config.NumKeyValueHeads));
        var error = Assert.Throws<NotSupportedException>(() => Import(Rewritten(gguf, m => m.Set("llama.attention.head_count_kv", new[] { 2, 1 }))));
        Assert.Contains("llama.attention.head_count_kv", error.Message);
    }

    [Fact]
    public void MissingAddBosTokenDefaultsToTrueForTheLlama3PreTokenizer()
    {
        var gguf = Exported();
        var (_, directory) = Import(Rewritten(gguf, Without("tokenizer.ggml.add_bos_token")));
        using var model = PretrainedModel.Load(directory);
        var ids = model.Tokenizer.Encode(Corpus[0], addSpecialTokens: true);
        Assert.Equal(model.Tokenizer.BosTokenId, ids[0]);
    }

    [Fact]
    public void LlamaCppAndImportAgreeOnAFileWithoutAnyOptionalKey()
    {
        var gguf = Rewritten(Exported(kvHeads: 4), Without(
            "llama.rope.freq_base", "llama.attention.head_count_kv", "llama.attention.key_length", "llama.attention.value_length",
            "llama.rope.dimension_count", "llama.vocab_size", "tokenizer.ggml.add_bos_token", "general.alignment", "general.name", "general.file_type"));
        var (_, directory) = Import(gguf);
        using var model = PretrainedModel.Load(directory);
        var (tokens, llamaCpp) = LlamaCppLogprobs.FromLlamaCpp(gguf, Corpus[0]);
        Assert.Equal(model.Tokenizer.Encode(Corpus[0], addSpecialTokens: true).ToArray(), tokens);
        float worst = LlamaCppLogprobs.MaxDifference(LlamaCppLogprobs.FromEngine(model, tokens), llamaCpp);
        Assert.True(worst < 1e-5f, $"max |Δ logprob| = {worst:E3}");
    }
}
