using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision.Qwen3Vl;

/// <summary>A tiny random Qwen3-VL checkpoint written by the same code as `whet init-model
/// --family qwen3_vl`: head_dim 16 (8 frequency pairs, mrope_section [4, 2, 2] interleaved),
/// a 3-block tower with 16-pixel patches, a 4 × 4 position table and deepstack from blocks 0 and 1.</summary>
internal static class Qwen3VlTestModels
{
    public static readonly RandomModelSpec Spec = new()
    {
        Family = ModelFamily.Qwen3, HiddenSize = 32, NumHiddenLayers = 3, NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 16,
        IntermediateSize = 64, MaxPositionEmbeddings = 256, TieWordEmbeddings = false, Vision = RandomVisionSpec.Qwen3Vl(),
    };

    public static string Write(long seed = 1)
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, Spec with { Seed = seed });
        return directory;
    }

    public static CausalLanguageModel Network(long seed = 1, ScalarType dtype = ScalarType.Float32) => TestModels.LoadNetwork(Write(seed), dtype);
}
