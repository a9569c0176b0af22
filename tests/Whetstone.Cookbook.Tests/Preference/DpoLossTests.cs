using Whetstone.Cookbook.Preference;

namespace Whetstone.Cookbook.Tests.Preference;

public class DpoLossTests
{
    static readonly float[][] Logprobs = [[-1.0f, -2.0f, -0.5f], [-1.5f, -0.25f, -3.0f], [-0.7f, -0.1f], [-2.2f, -0.4f]];
    static readonly double[][] Masks = [[0, 1, 1], [0, 1, 1], [0, 1], [1, 1]];
    static readonly double[] Reference = [-2.0, -3.5, -0.3, -2.0];

    [Fact]
    public void LossAndMetricsEqualTheFormulaWorkedByHand()
    {
        var result = DpoLoss.Compute(Logprobs, Masks, Reference, beta: 0.5);
        // Pair 0: chosen Σ = −2.5, rejected Σ = −3.25 → z = 0.5·((−2.5+2) − (−3.25+3.5)) = −0.375.
        // Pair 1: chosen Σ = −0.1, rejected Σ = −2.6 → z = 0.5·((−0.1+0.3) − (−2.6+2)) = 0.4.
        double z0 = -0.375, z1 = 0.4;
        double expected = (Math.Log(1 + Math.Exp(-z0)) + Math.Log(1 + Math.Exp(-z1))) / 2;
        Assert.Equal(expected, result.Loss, 6);
        Assert.Equal(0.5, result.Metrics.Accuracy);
        Assert.Equal((z0 + z1) / 2, result.Metrics.Margin, 6);
        Assert.Equal(0.5 * ((-2.5 + 2) + (-0.1 + 0.3)) / 2, result.Metrics.ChosenReward, 6);
        Assert.Equal(0.0f, result.LogprobGradients[0][0]);   // prompt token: no gradient
    }

    [Fact]
    public void LogprobGradientsMatchFiniteDifferences()
    {
        var analytic = DpoLoss.Compute(Logprobs, Masks, Reference, beta: 0.1).LogprobGradients;
        const float h = 1e-2f;   // the loss is smooth; float logprobs limit how small h can be
        for (int d = 0; d < Logprobs.Length; d++)
            for (int t = 0; t < Logprobs[d].Length; t++)
            {
                double Loss(float delta)
                {
                    var shifted = Logprobs.Select(l => l.ToArray()).ToArray();
                    shifted[d][t] += delta;
                    return DpoLoss.Compute(shifted, Masks, Reference, beta: 0.1).Loss;
                }
                double numeric = (Loss(h) - Loss(-h)) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[d][t]) < 1e-5, $"datum {d} token {t}: {analytic[d][t]:E4} vs {numeric:E4}");
            }
    }

    [Fact]
    public void OddDataOrNonPositiveBetaAreRefused()
    {
        Assert.Throws<ArgumentException>(() => DpoLoss.Compute(Logprobs[..3], Masks[..3], Reference[..3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.Compute(Logprobs, Masks, Reference, beta: 0));
    }
}
