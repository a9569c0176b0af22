using Whetstone.Engine.Models.Vision;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision;

/// <summary>The tower's forward against plain fp64 loops written from Qwen2.5-VL's modeling code:
/// patch embedding, 2-D rotary, windowed and full attention, gated MLP, RMSNorm and the merger.
/// The reference derives each patch's row, column and window from its index on its own.</summary>
public class VisionTowerReferenceTests
{
    [Fact]
    public void TowerMatchesAnFp64ReferenceOnTwoWindows()
    {
        using var network = VisionTestModels.Network(seed: 3, dtype: ScalarType.Float64);
        var vision = network.Config.Vision!;
        // 8 × 4 patches = 4 × 2 merge groups: with a 2-group window, two windows, so block 0
        // (windowed) and block 1 (full attention) differ.
        var image = VisionTestModels.RandomImage(vision, gridH: 8, gridW: 4, seed: 5);
        using var scope = NewDisposeScope();
        var actual = network.Visual!.Forward([image], null, ScalarType.Float64);
        var weights = network.named_parameters().ToDictionary(p => p.name, p => p.parameter.to(ScalarType.Float64).data<double>().ToArray());

        var expected = Reference(vision, image, weights);
        Assert.Equal([8, vision.OutHiddenSize], actual.shape.Select(s => (int)s).ToArray());
        var values = actual.data<double>().ToArray();
        double worst = values.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst < 1e-9, $"largest difference {worst}");
        Assert.True(expected.Max(Math.Abs) > 1e-3, "the reference output is not trivially zero");
    }

    [Fact]
    public void WindowedAttentionMattersSoTheReferenceChecksIt()
    {
        // Guard against a reference that would pass with full attention everywhere.
        using var network = VisionTestModels.Network(seed: 3, dtype: ScalarType.Float64);
        var vision = network.Config.Vision!;
        var image = VisionTestModels.RandomImage(vision, 8, 4, seed: 5);
        var weights = network.named_parameters().ToDictionary(p => p.name, p => p.parameter.to(ScalarType.Float64).data<double>().ToArray());
        var windowed = Reference(vision, image, weights);
        var full = Reference(vision with { FullAttBlockIndexes = [0, 1] }, image, weights);
        Assert.True(windowed.Zip(full).Max(p => Math.Abs(p.First - p.Second)) > 1e-6);
    }

    static double[] Reference(VisionConfig v, ImagePatches image, Dictionary<string, double[]> w)
    {
        int n = image.Patches, hidden = v.HiddenSize, heads = v.NumHeads, d = hidden / heads, m = v.SpatialMergeSize;
        int groupsPerRow = image.GridW / m, unitsPerWindow = v.WindowSize / (v.PatchSize * m);
        // Row, column and window of patch k: patches come in 2×2 groups, groups row by row.
        var row = new int[n]; var col = new int[n]; var window = new int[n];
        for (int k = 0; k < n; k++)
        {
            int group = k / (m * m), within = k % (m * m);
            int gh = group / groupsPerRow, gw = group % groupsPerRow;
            row[k] = gh * m + within / m; col[k] = gw * m + within % m;
            window[k] = gh / unitsPerWindow * 1000 + gw / unitsPerWindow;
        }
        var x = Linear(image.Values.Select(f => (double)f).ToArray(), n, v.PatchValues, w["visual.patch_embed.proj.weight"], null, hidden);
        for (int b = 0; b < v.Depth; b++)
        {
            string p = $"visual.blocks.{b}";
            bool full = v.FullAttBlockIndexes.Contains(b);
            var qkv = Linear(RmsNorm(x, n, hidden, w[$"{p}.norm1.weight"]), n, hidden, w[$"{p}.attn.qkv.weight"], w[$"{p}.attn.qkv.bias"], 3 * hidden);
            var attended = new double[n * hidden];
            for (int h = 0; h < heads; h++)
            {
                var q = new double[n][]; var kk = new double[n][];
                for (int i = 0; i < n; i++)
                {
                    q[i] = Rotate(qkv.AsSpan(i * 3 * hidden + h * d, d).ToArray(), row[i], col[i]);
                    kk[i] = Rotate(qkv.AsSpan(i * 3 * hidden + hidden + h * d, d).ToArray(), row[i], col[i]);
                }
                for (int i = 0; i < n; i++)
                {
                    var scores = new double[n];
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < n; j++)
                    {
                        if (!full && window[i] != window[j]) { scores[j] = double.NegativeInfinity; continue; }
                        double s = 0;
                        for (int e = 0; e < d; e++) s += q[i][e] * kk[j][e];
                        scores[j] = s / Math.Sqrt(d);
                        max = Math.Max(max, scores[j]);
                    }
                    double sum = scores.Sum(s => Math.Exp(s - max));
                    for (int j = 0; j < n; j++)
                    {
                        double a = Math.Exp(scores[j] - max) / sum;
                        for (int e = 0; e < d; e++) attended[i * hidden + h * d + e] += a * qkv[j * 3 * hidden + 2 * hidden + h * d + e];
                    }
                }
            }
            x = Add(x, Linear(attended, n, hidden, w[$"{p}.attn.proj.weight"], w[$"{p}.attn.proj.bias"], hidden));
            var normed = RmsNorm(x, n, hidden, w[$"{p}.norm2.weight"]);
            var gate = Linear(normed, n, hidden, w[$"{p}.mlp.gate_proj.weight"], w[$"{p}.mlp.gate_proj.bias"], v.IntermediateSize);
            var up = Linear(normed, n, hidden, w[$"{p}.mlp.up_proj.weight"], w[$"{p}.mlp.up_proj.bias"], v.IntermediateSize);
            var act = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
            x = Add(x, Linear(act, n, v.IntermediateSize, w[$"{p}.mlp.down_proj.weight"], w[$"{p}.mlp.down_proj.bias"], hidden));
        }
        // Merger: norm each patch, four consecutive patches side by side, Linear, exact GELU, Linear.
        var merged = RmsNorm(x, n, hidden, w["visual.merger.ln_q.weight"]);
        int groups = n / (m * m), width = hidden * m * m;
        var h1 = Linear(merged, groups, width, w["visual.merger.mlp.0.weight"], w["visual.merger.mlp.0.bias"], width);
        var gelu = h1.Select(z => 0.5 * z * (1 + Erf(z / Math.Sqrt(2)))).ToArray();
        return Linear(gelu, groups, width, w["visual.merger.mlp.2.weight"], w["visual.merger.mlp.2.bias"], v.OutHiddenSize);

        // Rotate-half with emb = [row·f, col·f, row·f, col·f], f_i = 10000^(−4i/d), i < d/4.
        double[] Rotate(double[] a, int r, int c)
        {
            var angle = new double[d];
            for (int i = 0; i < d / 4; i++)
            {
                double f = Math.Pow(10000, -4.0 * i / d);
                angle[i] = angle[d / 2 + i] = r * f;
                angle[d / 4 + i] = angle[d / 2 + d / 4 + i] = c * f;
            }
            var result = new double[d];
            for (int e = 0; e < d; e++)
                result[e] = a[e] * Math.Cos(angle[e]) + (e < d / 2 ? -a[e + d / 2] : a[e - d / 2]) * Math.Sin(angle[e]);
            return result;
        }
    }

    static double[] Linear(double[] x, int rows, int inputs, double[] weight, double[]? bias, int outputs)
    {
        var y = new double[rows * outputs];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outputs; o++)
            {
                double s = bias?[o] ?? 0;
                for (int i = 0; i < inputs; i++) s += x[r * inputs + i] * weight[o * inputs + i];
                y[r * outputs + o] = s;
            }
        return y;
    }

    static double[] RmsNorm(double[] x, int rows, int size, double[] weight)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int i = 0; i < size; i++) ms += x[r * size + i] * x[r * size + i];
            double scale = 1 / Math.Sqrt(ms / size + 1e-6);
            for (int i = 0; i < size; i++) y[r * size + i] = x[r * size + i] * scale * weight[i];
        }
        return y;
    }

    static double[] Add(double[] a, double[] b) => a.Select((x, i) => x + b[i]).ToArray();

    // Maclaurin series; the merger's pre-activations are well inside |z| < 3 where it converges to fp64 precision.
    static double Erf(double z)
    {
        double sum = 0, term = z;
        for (int k = 0; k < 80; k++)
        {
            sum += term / (2 * k + 1);
            term *= -z * z / (k + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
