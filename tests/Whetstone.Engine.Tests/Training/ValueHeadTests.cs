using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Training;

/// <summary>The reward model's value head: gradients of both value losses against finite
/// differences in fp64, chunking that splits pairs, checkpoint round trip, refusals.</summary>
public class ValueHeadTests
{
    internal static readonly ModelConfig Config = TestModels.Config(ModelFamily.Qwen3, hidden: 16, layers: 1, heads: 2, kvHeads: 1, vocab: 41);

    internal static TrainingRun RewardRun(CausalLanguageModel network, long seed = 5)
    {
        var lora = new LoraConfig { Rank = 2, Alpha = 4, ValueHead = true, Seed = seed };
        var factors = TrainingTestData.RandomAdapter(network, lora with { ValueHead = false }, seed);
        // B ≠ 0 (random factors) so the adapter's A factors get gradients too.
        var head = ValueHead.Create(network.Config.HiddenSize, seed, network.Dtype);
        var adapter = LoraAdapter.FromTensors(network.LoraTargets(), lora,
            t => factors.TryGet(t.Name, out var w) ? (w.A.detach().clone(), w.B.detach().clone()) : null, head);
        factors.Dispose();
        return TrainingRun.FromAdapter(network, adapter);
    }

    internal static ValueWork Work(string loss, int[] lengths, long seed)
    {
        var random = new Random((int)seed);
        return new ValueWork(lengths.Select(n => (IReadOnlyList<int>)Enumerable.Range(0, n).Select(_ => random.Next(Config.VocabSize)).ToArray()).ToArray())
        {
            Loss = ValueLoss.Parse(loss),
            Labels = loss == ValueLoss.BinaryLogisticName ? lengths.Select((_, i) => i % 3 == 0 ? 0.7f : i % 2).Select(l => (float)l).ToArray() : null,
        };
    }

    [Theory]
    [InlineData("bradley_terry")]
    [InlineData("binary_logistic")]
    public void ValueLossGradientsMatchFiniteDifferences(string lossName)
    {
        using var network = TestModels.Network(Config, dtype: ScalarType.Float64);
        using var run = RewardRun(network);
        // Lengths differ, and a 12-token chunk budget puts the pairs' members in different chunks.
        var work = Work(lossName, [5, 3, 6, 4], seed: 8);
        var result = ValuePass.Run(network, run.Adapter!, work, backward: true, tokensPerChunk: 12);
        Assert.True(result.Loss > 0);

        var parameters = run.Adapter!.NamedParameters().ToList();
        var random = new Random(3);
        int checkedEntries = 0;
        foreach (var (name, parameter) in parameters.Where((p, i) => i % 4 == 0 || p.Name.StartsWith("value_head")))
        {
            long index = random.NextInt64(parameter.numel());
            double analytic = parameter.grad!.flatten()[index].item<double>();
            double numeric = FiniteDifference(run, work, parameter, index);
            Assert.True(Math.Abs(analytic - numeric) <= 1e-6 + 1e-5 * Math.Abs(numeric),
                $"{lossName} {name}[{index}]: autograd {analytic:E6} vs finite difference {numeric:E6}");
            checkedEntries++;
        }
        Assert.True(checkedEntries >= 5);
        Assert.Contains(parameters, p => p.Name == ValueHead.BiasName);
    }

    internal static double FiniteDifference(TrainingRun run, ValueWork work, TorchSharp.Modules.Parameter parameter, long index)
    {
        const double h = 1e-6;
        var flat = parameter.detach().view(-1);
        double original = flat[index].item<double>();
        double Loss(double value)
        {
            using (no_grad()) flat[index] = value;
            return run.ForwardValues(work).Loss;
        }
        double plus = Loss(original + h), minus = Loss(original - h);
        Loss(original);
        return (plus - minus) / (2 * h);
    }

    [Fact]
    public void LossValuesEqualTheFormulasOnTheReturnedValues()
    {
        using var network = TestModels.Network(Config, dtype: ScalarType.Float64);
        using var run = RewardRun(network);
        var pairs = run.ForwardValues(Work("bradley_terry", [5, 3, 6, 4], seed: 2));
        var v = pairs.Values;
        double expected = Math.Log(1 + Math.Exp(v[1] - v[0])) + Math.Log(1 + Math.Exp(v[3] - v[2]));
        Assert.Equal(expected, pairs.Loss, 10);
        Assert.Equal(((v[0] > v[1] ? 1 : 0) + (v[2] > v[3] ? 1 : 0)) / 2.0, pairs.Accuracy);

        var thumbs = Work("binary_logistic", [5, 3, 6], seed: 2);
        var rated = run.ForwardValues(thumbs);
        double bce = rated.Values.Select((x, i) => -(thumbs.Labels![i] * Math.Log(1 / (1 + Math.Exp(-x))) + (1 - thumbs.Labels[i]) * Math.Log(1 - 1 / (1 + Math.Exp(-x))))).Sum();
        Assert.Equal(bce, rated.Loss, 10);
        // The value of a sequence does not depend on the batch it is scored in (padding is causal-masked).
        var alone = run.ForwardValues(new ValueWork([thumbs.Sequences[1]]));
        Assert.Equal(rated.Values[1], alone.Values[0], 12);
    }

    [Fact]
    public void TrainingTheHeadSeparatesChosenFromRejected()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4, ValueHead = true, Seed = 1 });
        var work = Work("bradley_terry", [6, 6, 7, 7, 5, 5, 8, 8], seed: 4);
        double before = run.ForwardValues(work).Loss;
        for (int step = 0; step < 30; step++)
        {
            run.ForwardBackwardValues(work);
            run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        }
        var after = run.ForwardValues(work);
        Assert.True(after.Loss < before / 4, $"loss {before:F3} → {after.Loss:F3}");
        Assert.Equal(1.0, after.Accuracy);
    }

    [Fact]
    public void CheckpointRoundTripRestoresTheHeadAndItsMoments()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4, ValueHead = true, Seed = 3 });
        var work = Work("binary_logistic", [6, 4, 7, 5], seed: 6);
        for (int step = 0; step < 3; step++)
        {
            run.ForwardBackwardValues(work);
            run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        }
        var directory = Path.Combine(TestModels.TempDirectory(), "rm");
        TrainingCheckpoint.Save(run, directory);
        using var restored = TrainingCheckpoint.LoadLora(network, directory, withOptimizer: true);
        Assert.NotNull(restored.Adapter!.ValueHead);
        Assert.True(run.Adapter!.ValueHead!.Weight.equal(restored.Adapter.ValueHead!.Weight).all().item<bool>());
        Assert.True(run.Adapter.ValueHead.Bias.equal(restored.Adapter.ValueHead.Bias).all().item<bool>());
        Assert.Equal(run.ForwardValues(work).Values, restored.ForwardValues(work).Values);

        // One more step on each: identical, so the head's AdamW moments came back too.
        foreach (var r in new[] { run, restored })
        {
            r.ForwardBackwardValues(work);
            r.OptimStep(new AdamParams { LearningRate = 1e-2 });
        }
        Assert.Equal(run.ForwardValues(work).Values, restored.ForwardValues(work).Values);
    }

    [Fact]
    public void BadValueWorkIsRefusedNamingTheFieldAndChangesNothing()
    {
        using var network = TestModels.Network(Config);
        using var plain = TrainingRun.CreateLora(network, new LoraConfig { Rank = 2 });
        Assert.Equal("loss_fn", Assert.Throws<TrainingArgumentException>(() => plain.ForwardBackwardValues(Work("bradley_terry", [3, 3], 1))).Field);
        Assert.Equal("value_head", Assert.Throws<TrainingArgumentException>(() => plain.ForwardValues(new ValueWork([[1, 2]]))).Field);

        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 2, ValueHead = true });
        Assert.Equal("data", Assert.Throws<TrainingArgumentException>(() => run.ForwardBackwardValues(Work("bradley_terry", [3, 3, 3], 1))).Field);
        var badLabel = Work("binary_logistic", [3, 4], 1) with { Labels = [1f, 2f] };
        Assert.Equal("data[1].loss_fn_inputs.label", Assert.Throws<TrainingArgumentException>(() => run.ForwardBackwardValues(badLabel)).Field);
        Assert.Equal("data", Assert.Throws<TrainingArgumentException>(() => run.ForwardBackwardValues(badLabel with { Labels = null })).Field);
        Assert.Equal("data[0].model_input", Assert.Throws<TrainingArgumentException>(() => run.ForwardValues(new ValueWork([[1, 99]]))).Field);
        Assert.All(run.Adapter!.NamedParameters(), p => Assert.Null(p.Parameter.grad));
        Assert.Equal("loss_fn", Assert.Throws<TrainingArgumentException>(() => ValueLoss.Parse("hinge")).Field);
    }
}
