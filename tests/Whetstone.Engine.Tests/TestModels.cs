using Whetstone.Engine.Formats;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests;

/// <summary>Tiny random models of each family, written to disk as Hugging Face checkpoints and
/// loaded back through the real loading path.</summary>
internal static class TestModels
{
    public static ModelConfig Config(ModelFamily family, bool tied = false, RopeScaling? scaling = null,
        int hidden = 32, int layers = 2, int heads = 4, int kvHeads = 2, int? headDim = null, int vocab = 97) => new()
    {
        Family = family,
        VocabSize = vocab,
        HiddenSize = hidden,
        IntermediateSize = hidden * 2 + 6,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = kvHeads,
        // Qwen3's head_dim is independent of hidden/heads: exercise that.
        HeadDim = headDim ?? (family == ModelFamily.Qwen3 ? 12 : hidden / heads),
        MaxPositionEmbeddings = 256,
        RmsNormEps = 1e-6,
        RopeTheta = 10000,
        RopeScaling = scaling ?? RopeScaling.None,
        TieWordEmbeddings = tied,
        AttentionBias = family == ModelFamily.Qwen2,
    };

    public static readonly RopeScaling Llama3Scaling = new()
    {
        Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 64,
    };

    /// <summary>Writes config.json and random weights into a new temporary directory.</summary>
    public static string WriteCheckpoint(ModelConfig config, long seed = 1, ScalarType dtype = ScalarType.Float32, long? maxShardBytes = null)
    {
        var directory = TempDirectory();
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson().ToJsonString(ModelConfig.Indented));
        using var scope = NewDisposeScope();
        CheckpointWriter.Write(directory, RandomWeights.Create(config, seed, dtype), maxShardBytes);
        return directory;
    }

    public static CausalLanguageModel LoadNetwork(string directory, ScalarType dtype = ScalarType.Float32) =>
        PretrainedModel.LoadNetwork(directory, ModelConfig.Load(directory), dtype);

    public static CausalLanguageModel Network(ModelConfig config, long seed = 1, ScalarType dtype = ScalarType.Float32) =>
        LoadNetwork(WriteCheckpoint(config, seed), dtype);

    public static string TempDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    public static Tensor RandomTokens(int batch, int length, int vocab, long seed)
    {
        var random = new Random((int)seed);
        var data = new long[batch * length];
        for (int i = 0; i < data.Length; i++) data[i] = random.Next(vocab);
        return tensor(data, [batch, length]);
    }

    public static IEnumerable<object[]> Families() =>
    [
        [ModelFamily.Llama], [ModelFamily.Qwen2], [ModelFamily.Qwen3],
    ];
}
