using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>loss_fn_config.tis_cap on importance_sampling, on hand-made numbers.</summary>
public class TruncatedImportanceSamplingTests
{
    [Fact]
    public void CapTruncatesTheRatioInValueAndGradient()
    {
        // r = e^(logp − logq): 0.5, 1.0, 3.0; cap 2 leaves the first two and cuts the third to 2.
        double[] logq = [-1.0, -2.0, -0.5];
        double[] r = [0.5, 1.0, 3.0];
        double[] advantages = [1.0, -2.0, 0.7];
        var logp = tensor(logq.Select((q, i) => q + Math.Log(r[i])).ToArray(), dtype: ScalarType.Float64).requires_grad_();
        var spec = LossSpec.Parse("importance_sampling", new Dictionary<string, double> { ["tis_cap"] = 2.0 });
        var loss = spec.Compute(logp, null, tensor(logq, dtype: ScalarType.Float64), tensor(advantages, dtype: ScalarType.Float64));
        // Value: −(0.5·1 + 1·(−2) + 2·0.7) = 0.1.
        Assert.Equal(0.1, loss.item<double>(), 1e-12);
        loss.backward();
        // ∂/∂logp_i = −min(r_i, 2)·A_i: −0.5, 2, −1.4 (uncapped, the last would be −2.1).
        Assert.Equal([-0.5, 2.0, -1.4], logp.grad!.data<double>().ToArray().Select(g => Math.Round(g, 12)));
    }

    [Fact]
    public void WithoutTheCapTheLossIsPlainImportanceSampling()
    {
        var spec = LossSpec.Parse("importance_sampling");
        Assert.Null(spec.TisCap);
        var loss = spec.Compute(tensor(new[] { Math.Log(3.0) }), null, tensor(new[] { 0.0 }), tensor(new[] { 0.7 }));
        Assert.Equal(-2.1, loss.item<double>(), 1e-6);
    }

    [Theory]
    [InlineData("importance_sampling", 0.0, "loss_fn_config.tis_cap")]
    [InlineData("importance_sampling", double.PositiveInfinity, "loss_fn_config.tis_cap")]
    [InlineData("cross_entropy", 2.0, "loss_fn_config.tis_cap")]
    public void RefusesABadCap(string loss, double cap, string field)
    {
        var error = Assert.Throws<TrainingArgumentException>(() => LossSpec.Parse(loss, new Dictionary<string, double> { ["tis_cap"] = cap }));
        Assert.Contains(field, error.Message + error.ToString());
    }
}
