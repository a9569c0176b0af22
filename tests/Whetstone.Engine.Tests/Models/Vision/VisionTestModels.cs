using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision;

/// <summary>A tiny random Qwen2.5-VL checkpoint written by the same code as `whet init-model
/// --family qwen2_5_vl`, and helpers to place images in token rows.</summary>
internal static class VisionTestModels
{
    public static readonly RandomModelSpec Spec = new()
    {
        Family = ModelFamily.Qwen2, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
        IntermediateSize = 64, MaxPositionEmbeddings = 256, Vision = new RandomVisionSpec(),
    };

    public static string Write(long seed = 1)
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, Spec with { Seed = seed });
        return directory;
    }

    public static CausalLanguageModel Network(long seed = 1, ScalarType dtype = ScalarType.Float32) => TestModels.LoadNetwork(Write(seed), dtype);

    /// <summary>Random patch values (what the image processor would produce) for a gridH × gridW patch grid.</summary>
    public static ImagePatches RandomImage(VisionConfig vision, int gridH, int gridW, int seed)
    {
        var random = new Random(seed);
        var values = new float[gridH * gridW * vision.PatchValues];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 4 - 2);
        return new ImagePatches(values, 1, gridH, gridW);
    }

    /// <summary>before, &lt;|vision_start|&gt;, image pads, &lt;|vision_end|&gt;, after.</summary>
    public static (int[] Tokens, PlacedImage Image) Row(VisionConfig vision, int[] before, ImagePatches image, int[] after)
    {
        var tokens = new List<int>(before) { vision.VisionStartTokenId };
        var placed = new PlacedImage(tokens.Count, image);
        tokens.AddRange(Enumerable.Repeat(vision.ImageTokenId, image.Tokens(vision.SpatialMergeSize)));
        tokens.Add(vision.VisionEndTokenId);
        tokens.AddRange(after);
        return (tokens.ToArray(), placed);
    }
}
