using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models;

/// <summary>The network against a hand-written implementation of the same equations.</summary>
public class ReferenceTransformerTests
{
    public static IEnumerable<object[]> Variants() =>
    [
        [ModelFamily.Llama, true],
        [ModelFamily.Llama, false],
        [ModelFamily.Qwen2, false],
        [ModelFamily.Qwen3, false],
    ];

    [Theory]
    [MemberData(nameof(Variants))]
    public void NetworkMatchesHandWrittenReference(ModelFamily family, bool llama3Scaling)
    {
        // Long enough (40 positions) that llama3's scaled low frequencies actually turn.
        var config = TestModels.Config(family, tied: family == ModelFamily.Qwen3,
            scaling: llama3Scaling ? TestModels.Llama3Scaling : null, hidden: 16, layers: 2, heads: 4, kvHeads: 2);
        var directory = TestModels.WriteCheckpoint(config, seed: 3);
        using var network = TestModels.LoadNetwork(directory, ScalarType.Float64);
        var tokens = Enumerable.Range(0, 40).Select(i => (i * 37 + 11) % config.VocabSize).ToArray();

        var expected = new ReferenceTransformer(directory, config).Logits(tokens);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var actual = network.Logits(network.Forward(tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0)))[0]
            .data<double>().ToArray();   // an fp64 network gives fp64 logits
        int vocab = config.VocabSize;
        double worst = 0;
        for (int t = 0; t < tokens.Length; t++)
            for (int j = 0; j < vocab; j++)
                worst = Math.Max(worst, Math.Abs(expected[t][j] - actual[t * vocab + j]));
        Assert.True(worst < 1e-5, $"max |Δlogit| = {worst:E3}");
    }

    [Fact]
    public void Llama3InverseFrequenciesMatchTheIndependentFormula()
    {
        var scaling = new RopeScaling { Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192 };
        var ours = RotaryEmbedding.InverseFrequencies(128, 500000, scaling);
        var reference = ReferenceTransformer.InverseFrequencies(128, 500000, scaling);
        for (int i = 0; i < ours.Length; i++)
            Assert.Equal(reference[i], ours[i], reference[i] * 1e-6);
        // The three bands are all present: kept, blended and divided by the factor.
        var unscaled = RotaryEmbedding.InverseFrequencies(128, 500000, RopeScaling.None);
        Assert.Equal(unscaled[0], ours[0]);
        Assert.Equal(unscaled[^1] / 8, ours[^1], 1e-12);
        Assert.Contains(Enumerable.Range(0, ours.Length), i => ours[i] < unscaled[i] && ours[i] > unscaled[i] / 8 * 1.01);
    }

    [Fact]
    public void RotaryEmbeddingRotatesPairsByPositionTimesFrequency()
    {
        var config = TestModels.Config(ModelFamily.Llama, scaling: TestModels.Llama3Scaling, hidden: 32, heads: 2, kvHeads: 2);
        var rotary = new RotaryEmbedding(config);
        var random = new Random(5);
        var x = Enumerable.Range(0, config.HeadDim).Select(_ => random.NextDouble() - 0.5).ToArray();
        int position = 37;
        using var scope = NewDisposeScope();
        var (cos, sin) = rotary.Angles(tensor(new long[] { position }).view(1, 1), ScalarType.Float64);
        var rotated = RotaryEmbedding.Apply(tensor(x).view(1, 1, 1, -1), cos, sin).data<double>().ToArray();
        var inv = ReferenceTransformer.InverseFrequencies(config.HeadDim, config.RopeTheta, config.RopeScaling);
        var expected = ReferenceTransformer.Rotate(x, position, inv);
        for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], rotated[i], 1e-5);
        // A rotation keeps the vector's length.
        Assert.Equal(Math.Sqrt(x.Sum(z => z * z)), Math.Sqrt(rotated.Sum(z => z * z)), 1e-6);
    }
}
