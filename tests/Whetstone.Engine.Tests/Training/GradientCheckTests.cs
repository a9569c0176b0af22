using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Training;

/// <summary>Gradients of every built-in loss with respect to the LoRA factors, against central
/// finite differences of the loss value, in fp64 on a tiny model.</summary>
public class GradientCheckTests
{
    public static IEnumerable<object[]> Losses() =>
    [
        ["cross_entropy", 0.05f],
        ["importance_sampling", 0.05f],
        ["ppo", 0.05f],     // ratios inside the clip range
        ["ppo", 0.5f],      // ratios e^±0.5, outside it: the clipped branch
        ["cispo", 0.5f],
        ["dro", 0.3f],
    ];

    [Theory]
    [MemberData(nameof(Losses))]
    public void LossGradientsMatchFiniteDifferences(string lossName, float offset)
    {
        var config = TestModels.Config(ModelFamily.Qwen2, hidden: 16, layers: 1, heads: 2, kvHeads: 1, vocab: 41);
        using var network = TestModels.Network(config, dtype: ScalarType.Float64);
        var lora = new LoraConfig { Rank = 2, Alpha = 4 };
        using var run = TrainingRun.FromAdapter(network, TrainingTestData.RandomAdapter(network, lora, seed: 5));
        var loss = LossSpec.Parse(lossName);
        var probe = TrainingTestData.Random(config.VocabSize, [5, 3], seed: 8);
        var current = run.Forward(probe, LossSpec.Parse("cross_entropy")).Logprobs;
        var data = TrainingTestData.Random(config.VocabSize, [5, 3], seed: 8, current, offset);

        run.ForwardBackward(data, loss);
        var parameters = run.Adapter!.NamedParameters().ToList();
        var random = new Random(3);
        int checkedEntries = 0;
        foreach (var (name, parameter) in parameters.Where((_, i) => i % 3 == 0))
        {
            long index = random.NextInt64(parameter.numel());
            double analytic = parameter.grad!.flatten()[index].item<double>();
            double numeric = FiniteDifference(run, data, loss, parameter, index);
            Assert.True(Math.Abs(analytic - numeric) <= 1e-6 + 1e-5 * Math.Abs(numeric),
                $"{lossName} {name}[{index}]: autograd {analytic:E6} vs finite difference {numeric:E6}");
            checkedEntries++;
        }
        Assert.True(checkedEntries >= 5);
        Assert.Contains(parameters, p => p.Name.StartsWith("lm_head"));
    }

    static double FiniteDifference(TrainingRun run, List<Datum> data, LossSpec loss, TorchSharp.Modules.Parameter parameter, long index)
    {
        const double h = 1e-6;
        var flat = parameter.detach().view(-1);
        double original = flat[index].item<double>();
        double Loss(double value)
        {
            using (no_grad()) flat[index] = value;
            return run.Forward(data, loss).Loss;
        }
        double plus = Loss(original + h), minus = Loss(original - h);
        Loss(original);
        return (plus - minus) / (2 * h);
    }
}
