using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision.Qwen3Vl;

/// <summary>Qwen3-VL's mergers and vision MLP against fp64 loops: the main merger LayerNorms each
/// patch before grouping 2×2 patches, a deepstack merger the grouped 4·hidden vector; both then
/// linear_fc1 → GELU (erf) → linear_fc2. The block MLP uses GELU's tanh form.</summary>
public class Qwen3VlMergerReferenceTests
{
    [Theory]
    [InlineData("model.visual.merger", false)]
    [InlineData("model.visual.deepstack_merger_list.1", true)]
    public void MergerMatchesAnFp64Reference(string name, bool normAfterGrouping)
    {
        using var network = Qwen3VlTestModels.Network(seed: 4, dtype: ScalarType.Float64);
        var merger = (Qwen3PatchMerger)network.named_modules().First(m => m.name == name).module;
        var p = network.named_parameters().ToDictionary(x => x.name, x => x.parameter.data<double>().ToArray());
        int width = network.Config.Vision!.HiddenSize, group = 4 * width, outWidth = network.Config.HiddenSize;
        var random = new Random(9);
        var input = Enumerable.Range(0, 8 * width).Select(_ => random.NextDouble() * 2 - 1).ToArray();   // 8 patches = 2 groups
        using var scope = NewDisposeScope();
        var actual = merger.Forward(tensor(input, [1, 8, width]), EmptyContext()).data<double>().ToArray();

        for (int g = 0; g < 2; g++)
        {
            var joined = input.Skip(g * group).Take(group).ToArray();
            double[] normed = normAfterGrouping
                ? LayerNorm(joined, p[$"{name}.norm.weight"], p[$"{name}.norm.bias"])
                : Enumerable.Range(0, 4).SelectMany(k => LayerNorm(joined.Skip(k * width).Take(width).ToArray(), p[$"{name}.norm.weight"], p[$"{name}.norm.bias"])).ToArray();
            var hidden = Linear(normed, p[$"{name}.linear_fc1.weight"], p[$"{name}.linear_fc1.bias"]).Select(x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)))).ToArray();
            var expected = Linear(hidden, p[$"{name}.linear_fc2.weight"], p[$"{name}.linear_fc2.bias"]);
            for (int o = 0; o < outWidth; o++)
                Assert.True(Math.Abs(actual[g * outWidth + o] - expected[o]) < 1e-9, $"group {g} output {o}: {actual[g * outWidth + o]} vs {expected[o]}");
        }
    }

    [Fact]
    public void BlockMlpUsesTheTanhGelu()
    {
        using var network = Qwen3VlTestModels.Network(seed: 4, dtype: ScalarType.Float64);
        var mlp = (Qwen3VisionMlp)network.named_modules().First(m => m.name == "model.visual.blocks.1.mlp").module;
        var p = network.named_parameters().ToDictionary(x => x.name, x => x.parameter.data<double>().ToArray());
        int width = network.Config.Vision!.HiddenSize;
        var input = Enumerable.Range(0, width).Select(i => Math.Sin(i) * 30).ToArray();   // large enough that tanh and erf GELU differ
        using var scope = NewDisposeScope();
        var actual = mlp.Forward(tensor(input, [1, 1, width]), EmptyContext()).data<double>().ToArray();
        var hidden = Linear(input, p["model.visual.blocks.1.mlp.linear_fc1.weight"], p["model.visual.blocks.1.mlp.linear_fc1.bias"])
            .Select(x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))).ToArray();
        var expected = Linear(hidden, p["model.visual.blocks.1.mlp.linear_fc2.weight"], p["model.visual.blocks.1.mlp.linear_fc2.bias"]);
        Assert.True(actual.Zip(expected).Max(q => Math.Abs(q.First - q.Second)) < 1e-10);
    }

    static ForwardContext EmptyContext() => new() { Cos = empty(0), Sin = empty(0), Positions = empty(0, dtype: ScalarType.Int64) };

    static double[] LayerNorm(double[] x, double[] weight, double[] bias)
    {
        double mean = x.Average(), variance = x.Select(v => (v - mean) * (v - mean)).Average();
        return x.Select((v, i) => (v - mean) / Math.Sqrt(variance + 1e-6) * weight[i] + bias[i]).ToArray();
    }

    /// <summary>W [out, in] row-major.</summary>
    static double[] Linear(double[] x, double[] weight, double[] bias) =>
        Enumerable.Range(0, bias.Length).Select(o => bias[o] + Enumerable.Range(0, x.Length).Sum(i => weight[o * x.Length + i] * x[i])).ToArray();

    /// <summary>erf by its Maclaurin series (exact to fp64 rounding for the |x| &lt; 3 seen here).</summary>
    static double Erf(double x)
    {
        Assert.True(Math.Abs(x) < 3, $"erf series used outside its range: {x}");
        double sum = 0, term = x;
        for (int n = 0; n < 100; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
