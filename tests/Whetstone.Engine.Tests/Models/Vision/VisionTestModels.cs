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

    static readonly float[] ClipMean = [0.48145466f, 0.4578275f, 0.40821073f];
    static readonly float[] ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>A white side × side picture with one coloured square, cut into patches and
    /// CLIP-normalised as the service's image processor does (merge groups contiguous).</summary>
    public static ImagePatches SquarePicture(VisionConfig vision, int side, (byte R, byte G, byte B) colour, int left, int top, int size)
    {
        int p = vision.PatchSize, m = vision.SpatialMergeSize, grid = side / p;
        var values = new float[grid * grid * vision.PatchValues];
        int index = 0;
        for (int bh = 0; bh < grid / m; bh++)
            for (int bw = 0; bw < grid / m; bw++)
                for (int mh = 0; mh < m; mh++)
                    for (int mw = 0; mw < m; mw++)
                        for (int c = 0; c < 3; c++)
                            for (int frame = 0; frame < vision.TemporalPatchSize; frame++)
                                for (int y = (bh * m + mh) * p; y < (bh * m + mh + 1) * p; y++)
                                    for (int x = (bw * m + mw) * p; x < (bw * m + mw + 1) * p; x++)
                                    {
                                        bool inside = x >= left && x < left + size && y >= top && y < top + size;
                                        byte value = inside ? (c == 0 ? colour.R : c == 1 ? colour.G : colour.B) : (byte)255;
                                        values[index++] = (value / 255f - ClipMean[c]) / ClipStd[c];
                                    }
        return new ImagePatches(values, 1, grid, grid);
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
