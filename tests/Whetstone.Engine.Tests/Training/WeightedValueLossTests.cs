using Whetstone.Engine.Training;
using static TorchSharp.torch;
using static Whetstone.Engine.Tests.Training.ValueHeadTests;

namespace Whetstone.Engine.Tests.Training;

/// <summary>Per-datum weights on the value losses (the reward model's per-user cap): the loss is
/// the weighted sum of the unweighted terms, its gradients match finite differences, a zero
/// weight removes a datum's pull, and bad weights are refused naming the field.</summary>
public class WeightedValueLossTests
{
    [Fact]
    public void WeightedLossIsTheWeightedSumOfTheTerms()
    {
        using var network = TestModels.Network(Config, dtype: ScalarType.Float64);
        using var run = RewardRun(network);
        var pairs = Work("bradley_terry", [5, 3, 6, 4], seed: 2) with { Weights = [0.25f, 0.25f, 3f, 3f] };
        var v = run.ForwardValues(pairs).Values;
        // Independent fp64: −log σ(v_c − v_r) = log(1 + e^(v_r − v_c)).
        Assert.Equal(0.25 * Math.Log(1 + Math.Exp(v[1] - v[0])) + 3 * Math.Log(1 + Math.Exp(v[3] - v[2])), run.ForwardValues(pairs).Loss, 10);

        var thumbs = Work("binary_logistic", [5, 3, 6], seed: 2) with { Weights = [2f, 0f, 0.5f] };
        var rated = run.ForwardValues(thumbs);
        double expected = rated.Values.Select((x, i) =>
            thumbs.Weights![i] * -(thumbs.Labels![i] * Math.Log(1 / (1 + Math.Exp(-x))) + (1 - thumbs.Labels[i]) * Math.Log(1 - 1 / (1 + Math.Exp(-x))))).Sum();
        Assert.Equal(expected, rated.Loss, 10);
    }

    [Theory]
    [InlineData("bradley_terry")]
    [InlineData("binary_logistic")]
    public void WeightedGradientsMatchFiniteDifferences(string lossName)
    {
        using var network = TestModels.Network(Config, dtype: ScalarType.Float64);
        using var run = RewardRun(network);
        var work = Work(lossName, [5, 3, 6, 4], seed: 8) with { Weights = [1.5f, 1.5f, 0.2f, 0.2f] };
        ValuePass.Run(network, run.Adapter!, work, backward: true, tokensPerChunk: 12);
        var random = new Random(5);
        // The unembedding's factors are off the value's path (no gradient): check the others.
        var onPath = run.Adapter!.NamedParameters().Where(p => p.Parameter.grad is not null).ToList();
        Assert.True(onPath.Count >= 5, $"{onPath.Count} parameters with gradients");
        foreach (var (name, parameter) in onPath.Where((p, i) => i % 3 == 0 || p.Name.StartsWith("value_head")))
        {
            long index = random.NextInt64(parameter.numel());
            double analytic = parameter.grad!.flatten()[index].item<double>();
            double numeric = FiniteDifference(run, work, parameter, index);
            Assert.True(Math.Abs(analytic - numeric) <= 1e-6 + 1e-5 * Math.Abs(numeric), $"{lossName} {name}[{index}]: autograd {analytic:E6} vs finite difference {numeric:E6}");
        }
    }

    [Fact]
    public void AZeroWeightDatumContributesNoGradient()
    {
        using var network = TestModels.Network(Config, dtype: ScalarType.Float64);
        var full = Work("binary_logistic", [5, 3, 6], seed: 4);
        double[] Gradient(ValueWork work)
        {
            using var run = RewardRun(network);
            ValuePass.Run(network, run.Adapter!, work, backward: true);
            return run.Adapter!.NamedParameters().SelectMany(p => p.Parameter.grad is { } g ? g.flatten().data<double>().ToArray() : new double[p.Parameter.numel()]).ToArray();
        }
        var withZero = Gradient(full with { Weights = [1f, 0f, 1f] });
        var without = Gradient(full with { Sequences = [full.Sequences[0], full.Sequences[2]], Labels = [full.Labels![0], full.Labels[2]] });
        Assert.Equal(without.Length, withZero.Length);
        for (int i = 0; i < without.Length; i++) Assert.Equal(without[i], withZero[i], 10);
    }

    [Fact]
    public void BadWeightsAreRefusedNamingTheField()
    {
        using var network = TestModels.Network(Config);
        using var run = RewardRun(network);
        Assert.Equal("data[1].loss_fn_inputs.weight", Assert.Throws<TrainingArgumentException>(() =>
            run.ForwardBackwardValues(Work("binary_logistic", [3, 4], 1) with { Weights = [1f, -1f] })).Field);
        Assert.Equal("data[1].loss_fn_inputs.weight", Assert.Throws<TrainingArgumentException>(() =>
            run.ForwardBackwardValues(Work("bradley_terry", [3, 4], 1) with { Weights = [1f, 2f] })).Field);
        Assert.Equal("data", Assert.Throws<TrainingArgumentException>(() =>
            run.ForwardBackwardValues(Work("binary_logistic", [3, 4], 1) with { Weights = [1f] })).Field);
        Assert.All(run.Adapter!.NamedParameters(), p => Assert.Null(p.Parameter.grad));
    }
}
