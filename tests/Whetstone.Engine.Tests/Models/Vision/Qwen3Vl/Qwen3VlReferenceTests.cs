using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision.Qwen3Vl;

/// <summary>The pieces where Qwen3-VL differs from Qwen2.5-VL, against fp64 values worked out
/// here on hand-made inputs: interleaved M-RoPE, the interpolated position table, deepstack.</summary>
public class Qwen3VlReferenceTests
{
    [Fact]
    public void InterleavedMropeAssignsFrequencyPairsTHWInTurn()
    {
        // 8 pairs, sections [4, 2, 2]: t h w t h w, then the rest temporal.
        Assert.Equal([0L, 1, 2, 0, 1, 2, 0, 0], RotaryEmbedding.MropeAxes(8, [4, 2, 2], interleaved: true));
        Assert.Equal([0L, 0, 0, 0, 1, 1, 2, 2], RotaryEmbedding.MropeAxes(8, [4, 2, 2], interleaved: false));
        // Qwen3-VL's released split: 64 pairs, [24, 20, 20]; pairs 60..63 are temporal.
        var axes = RotaryEmbedding.MropeAxes(64, [24, 20, 20], interleaved: true);
        Assert.Equal((24, 20, 20), (axes.Count(a => a == 0), axes.Count(a => a == 1), axes.Count(a => a == 2)));
        Assert.Equal([1L, 2, 0, 0, 0, 0], axes[58..]);
    }

    [Fact]
    public void InterleavedMropeAnglesMatchAnFp64Reference()
    {
        var config = ModelConfig.Load(Qwen3VlTestModels.Write());
        var rotary = new RotaryEmbedding(config);
        // One token at hand-made (t, h, w) = (5, 7, 9), another at (3, 3, 3).
        long[,] axes = { { 5, 3 }, { 7, 3 }, { 9, 3 } };
        using var scope = NewDisposeScope();
        var positions = tensor(new long[] { 5, 3, 7, 3, 9, 3 }, [3, 1, 2]);
        var (cos, sin) = rotary.Angles(positions, ScalarType.Float64, config.MropeSection!, interleaved: true);
        int d = config.HeadDim, half = d / 2;
        int[] axisOfPair = [0, 1, 2, 0, 1, 2, 0, 0];   // written out from the rule, for 8 pairs of [4, 2, 2]
        var c = cos.data<double>().ToArray();
        var s = sin.data<double>().ToArray();
        for (int token = 0; token < 2; token++)
            for (int j = 0; j < d; j++)
            {
                int pair = j % half;
                double angle = axes[axisOfPair[pair], token] * Math.Pow(config.RopeTheta, -2.0 * pair / d);
                Assert.True(Math.Abs(c[token * d + j] - Math.Cos(angle)) < 1e-6, $"cos token {token} dim {j}");
                Assert.True(Math.Abs(s[token * d + j] - Math.Sin(angle)) < 1e-6, $"sin token {token} dim {j}");
            }
    }

    [Fact]
    public void PositionTableInterpolationMatchesHandComputedValues()
    {
        // A 3 × 3 table holding 10·row + column² read by a 2 × 4 grid: rows at 0 and 2, columns at 0, 2/3, 4/3, 2.
        double Read(int row, int column) =>
            PositionEmbeddingGrid.Corners(3, 2, 4, row, column).Sum(c => c.Weight * (10 * (c.Index / 3) + Math.Pow(c.Index % 3, 2)));
        Assert.Equal(0, Read(0, 0), 12);
        Assert.Equal(2.0 / 3, Read(0, 1), 12);          // ⅓·0 + ⅔·1
        Assert.Equal(20 + 2.0 / 3 + 4.0 / 3, Read(1, 2), 12);   // row 2, column 4/3: ⅔·1 + ⅓·4
        Assert.Equal(24, Read(1, 3), 12);               // the last corner: the ceiling clamps to the table
        // A one-row grid reads row 0 only.
        Assert.All(PositionEmbeddingGrid.Corners(3, 1, 4, 0, 1), c => Assert.True(c.Index < 3 || c.Weight == 0));
    }

    [Fact]
    public void TowerPositionsFollowThePatchOrderAndTheBilinearTable()
    {
        using var network = Qwen3VlTestModels.Network(dtype: ScalarType.Float64);
        var tower = ((Qwen3VlModel)network.named_children().First(c => c.name == "model").module).Visual;
        var v = network.Config.Vision!;
        using var scope = NewDisposeScope();
        var table = network.named_parameters().First(p => p.name == "model.visual.pos_embed.weight").parameter.data<double>().ToArray();
        int side = 4, width = v.HiddenSize, gridH = 2, gridW = 6;
        var image = VisionTestModels.RandomImage(v, gridH, gridW, seed: 1);
        var actual = tower.Positions([image]).data<double>().ToArray();
        // The processor's order: 2 × 2 merge groups row by row, each group row-major inside.
        int patch = 0;
        for (int groupColumn = 0; groupColumn < gridW / 2; groupColumn++)
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++, patch++)
                {
                    int row = dy, column = groupColumn * 2 + dx;
                    double y = row * (side - 1.0) / (gridH - 1), x = column * (side - 1.0) / (gridW - 1);
                    for (int k = 0; k < width; k += 7)
                    {
                        double expected = Bilinear(table, side, width, y, x, k);
                        Assert.True(Math.Abs(actual[patch * width + k] - expected) < 1e-12, $"patch {patch} ({row}, {column}) feature {k}");
                    }
                }
    }

    /// <summary>Bilinear interpolation of a side × side grid of feature vectors at real (y, x).</summary>
    static double Bilinear(double[] table, int side, int width, double y, double x, int k)
    {
        double At(int r, int c) => table[(Math.Clamp(r, 0, side - 1) * side + Math.Clamp(c, 0, side - 1)) * width + k];
        int r0 = (int)Math.Floor(y), c0 = (int)Math.Floor(x);
        double fy = y - r0, fx = x - c0;
        return (1 - fy) * ((1 - fx) * At(r0, c0) + fx * At(r0, c0 + 1)) + fy * ((1 - fx) * At(r0 + 1, c0) + fx * At(r0 + 1, c0 + 1));
    }

    [Fact]
    public void DeepstackFeaturesAreAddedAtTheImagePositionsAfterTheFirstLayers()
    {
        using var network = Qwen3VlTestModels.Network(seed: 2, dtype: ScalarType.Float64);
        var v = network.Config.Vision!;
        var (tokens, placed) = VisionTestModels.Row(v, [5, 6], VisionTestModels.RandomImage(v, 4, 4, seed: 3), [7, 8]);
        using var scope = NewDisposeScope();
        var ids = tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]);
        var actual = network.ForwardWithImages(ids, [[placed]]).data<double>().ToArray();

        // Reference: splice the merger's output over the pads, then after decoder layer K add
        // deepstack level K's row j to image position offset + j, by hand, one position at a time.
        var features = network.VisionEncoder!.Encode([placed.Patches], null, ScalarType.Float64);
        Assert.Equal(2, features.Deepstack.Count);
        int hidden = network.Config.HiddenSize, count = placed.Patches.Tokens(v.SpatialMergeSize);
        var rope = VisionLanguageInputs.RopePositions([[placed]], tokens.Length, 0, v, CPU);
        var (cos, sin) = new RotaryEmbedding(network.Config).Angles(rope, ScalarType.Float64, network.Config.MropeSection!, interleaved: true);
        var context = new ForwardContext { Cos = cos, Sin = sin, Positions = arange(tokens.Length, dtype: ScalarType.Int64).unsqueeze(0) };
        double[] Run(bool deepstack)
        {
            var x = network.Body.Embed(ids).clone();
            for (int j = 0; j < count; j++) x[0, placed.Offset + j] = features.Embeddings[j];
            int layer = 0;
            foreach (var decoderLayer in network.Body.Layers)
            {
                x = decoderLayer.Forward(x, context);
                if (deepstack && layer < features.Deepstack.Count)
                    for (int j = 0; j < count; j++) x[0, placed.Offset + j] = x[0, placed.Offset + j] + features.Deepstack[layer][j];
                layer++;
            }
            return network.Body.Norm(x).data<double>().ToArray();
        }
        var expected = Run(deepstack: true);
        double worst = actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst < 1e-10, $"largest difference {worst}");
        // Deepstack matters: leaving it out moves the image positions and what follows, not what precedes.
        var without = Run(deepstack: false);
        Assert.True(actual.Skip(placed.Offset * hidden).Zip(without.Skip(placed.Offset * hidden)).Max(p => Math.Abs(p.First - p.Second)) > 1e-4);
        Assert.Equal(without.Take(placed.Offset * hidden), actual.Take(placed.Offset * hidden));
    }
}
