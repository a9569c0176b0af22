using Whetstone.Cookbook.LongMemory;

namespace Whetstone.Cookbook.Tests;

/// <summary>The scorer's RL, without a model: the Plackett–Luce sampler and its log-probability
/// gradient (against central finite differences of the log-probability, and first-pick frequencies
/// against softmax), the REINFORCE surrogate's gradient (against finite differences of the
/// surrogate), the binary_logistic label/weight that carries any gradient, and the greedy fill.</summary>
public class SpanValueRlTests
{
    static readonly double[] Logits = [0.7, -1.2, 2.1, 0.0, -0.4];

    [Theory]
    [InlineData(1.0, 3)]
    [InlineData(2.5, 5)]
    [InlineData(0.5, 1)]
    public void LogProbabilityGradientMatchesFiniteDifferences(double temperature, int prefix)
    {
        int[] order = [2, 0, 4, 1, 3];
        var analytic = PlackettLuce.LogProbabilityGradient(Logits, temperature, order, prefix);
        const double h = 1e-6;
        for (int j = 0; j < Logits.Length; j++)
        {
            var up = (double[])Logits.Clone(); up[j] += h;
            var down = (double[])Logits.Clone(); down[j] -= h;
            double numeric = (PlackettLuce.LogProbability(up, temperature, order, prefix) - PlackettLuce.LogProbability(down, temperature, order, prefix)) / (2 * h);
            Assert.Equal(numeric, analytic[j], 6);
        }
        // By hand, the first pick alone: (1[j = 2] − softmax(s/T)_j) / T.
        var one = PlackettLuce.LogProbabilityGradient(Logits, temperature, order, 1);
        double z = Logits.Sum(s => Math.Exp(s / temperature));
        for (int j = 0; j < Logits.Length; j++)
            Assert.Equal(((j == 2 ? 1 : 0) - Math.Exp(Logits[j] / temperature) / z) / temperature, one[j], 12);
    }

    [Fact]
    public void SampledFirstPicksFollowTheSoftmax()
    {
        var random = new Random(4);
        const int n = 40_000;
        var first = new int[Logits.Length];
        for (int i = 0; i < n; i++) first[PlackettLuce.SampleOrder(Logits, 1.5, random)[0]]++;
        double z = Logits.Sum(s => Math.Exp(s / 1.5));
        for (int j = 0; j < Logits.Length; j++)
        {
            double p = Math.Exp(Logits[j] / 1.5) / z;
            double sd = Math.Sqrt(p * (1 - p) / n);
            Assert.True(Math.Abs(first[j] / (double)n - p) < 5 * sd, $"line {j}: {first[j] / (double)n:F4} drawn first, softmax {p:F4}");
        }
    }

    [Fact]
    public void SurrogateGradientIsTheFiniteDifferenceOfTheReinforceLoss()
    {
        // A group of four memories with their rewards; the gradient of −(1/G) Σ A_g log π_g, A normalised in the group.
        var samples = new (int[] Order, int Prefix, double Reward)[]
        {
            ([2, 0, 4, 1, 3], 2, 1.0), ([1, 3, 0, 2, 4], 3, 0.0), ([0, 2, 1, 3, 4], 2, 0.5), ([4, 1, 2, 0, 3], 4, 0.25),
        };
        const double temperature = 1.7;
        var gradient = SpanValueRlRecipe.PolicyGradient(Logits, samples, temperature)!;
        double mean = samples.Average(s => s.Reward), std = Math.Sqrt(samples.Average(s => (s.Reward - mean) * (s.Reward - mean)));
        double Loss(double[] logits) => -samples.Sum(s => (s.Reward - mean) / std * PlackettLuce.LogProbability(logits, temperature, s.Order, s.Prefix)) / samples.Length;
        const double h = 1e-6;
        for (int j = 0; j < Logits.Length; j++)
        {
            var up = (double[])Logits.Clone(); up[j] += h;
            var down = (double[])Logits.Clone(); down[j] -= h;
            Assert.Equal((Loss(up) - Loss(down)) / (2 * h), gradient[j], 6);
        }
        Assert.Null(SpanValueRlRecipe.PolicyGradient(Logits, samples.Select(s => (s.Order, s.Prefix, 0.5)).ToArray(), temperature));
    }

    [Theory]
    [InlineData(0.3, 1.2)]
    [InlineData(-0.3, 1.2)]
    [InlineData(2.0, -4.0)]
    [InlineData(-2.0, -4.0)]
    [InlineData(0.01, 6.0)]
    [InlineData(-0.01, -6.0)]
    public void LabelAndWeightCarryTheGradientExactly(double gradient, double value)
    {
        var (label, weight) = LogisticGradientTarget.For(gradient, value);
        Assert.True(weight >= 0 && label is 0f or 1f, $"label {label}, weight {weight}: the API takes labels in [0, 1] and weights ≥ 0");
        // w · (σ(v) − y), the binary_logistic gradient written out here.
        double sigma = 1 / (1 + Math.Exp(-value));
        Assert.Equal(gradient, weight * (sigma - label), 5);
    }

    [Fact]
    public void FillKeepsLinesInTheOrderWhileTheyFitAndStopsWhereNothingLeftCan()
    {
        // Lengths in characters; a join adds one for the separator.
        string[] lines = ["aaaa", "bb", "cccccc", "d", "eee"];
        var problem = new SpanRlProblem(lines, lines.Select(l => (IReadOnlyList<int>)[l.Length]).ToArray(), lines.Select(l => l.Length).ToArray(), 8, _ => 0);
        var (kept, prefix) = SpanValueRlRecipe.Fill(problem, [2, 0, 3, 1, 4], text => text.Length);
        // "cccccc" (6), "aaaa" does not fit (6 + 1 + 4), "d" fits (6 + 1 + 1 = 8): full, nothing left can fit → the prefix ends at the third pick.
        Assert.Equal([2, 3], kept);
        Assert.Equal(3, prefix);
    }
}
