using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Training;

public class LoraTrainingTests
{
    static readonly ModelConfig Config = TestModels.Config(ModelFamily.Llama, hidden: 32, layers: 2, heads: 4, kvHeads: 2, vocab: 61);

    [Fact]
    public void FreshAdapterLeavesOutputsIdenticalToTheBaseModel()
    {
        using var network = TestModels.Network(Config);
        using var adapter = LoraAdapter.Create(network.LoraTargets(), new LoraConfig { Rank = 8, Seed = 1 });
        using var scope = NewDisposeScope();
        var tokens = TestModels.RandomTokens(2, 7, Config.VocabSize, seed: 1);
        var adapters = AdapterBatch.For([adapter, adapter]);
        var baseLogits = network.Logits(network.Forward(tokens));
        var adapted = network.Logits(network.Forward(tokens, adapters: adapters), adapters);
        Assert.Equal(0f, (baseLogits - adapted).abs().max().item<float>());
        // A is random (seeded), B is zero.
        var first = adapter.Weights.First();
        Assert.True(first.A.abs().max().item<float>() > 0);
        Assert.Equal(0f, first.B.abs().max().item<float>());
        Assert.Equal(2 * 7 + 1, adapter.Weights.Count);   // 7 projections per layer + lm_head
    }

    [Fact]
    public void TargetFlagsChooseTheProjections()
    {
        using var network = TestModels.Network(Config);
        using var attentionOnly = LoraAdapter.Create(network.LoraTargets(), new LoraConfig { TrainMlp = false, TrainUnembed = false });
        Assert.All(attentionOnly.Weights, w => Assert.Contains(".self_attn.", w.Target.Name));
        Assert.Equal(8, attentionOnly.Weights.Count);
        Assert.Throws<ArgumentException>(() => LoraAdapter.Create(network.LoraTargets(),
            new LoraConfig { TrainAttention = false, TrainMlp = false, TrainUnembed = false }));
    }

    [Fact]
    public void MixedBatchOfThreeAdaptersEqualsThreeSeparatePasses()
    {
        using var network = TestModels.Network(Config);
        var lora = new LoraConfig { Rank = 4 };
        var runs = Enumerable.Range(0, 3).Select(i => TrainingRun.FromAdapter(network, TrainingTestData.RandomAdapter(network, lora, seed: 10 + i))).ToArray();
        var data = Enumerable.Range(0, 3).Select(i => TrainingTestData.Random(Config.VocabSize, [6 + i, 3, 9 - i], seed: 20 + i)).ToArray();
        var loss = LossSpec.Parse("cross_entropy");

        var mixed = LearnerPass.Run(network, runs.Select((r, i) => new LearnerWork(r.Adapter, data[i]) { Loss = loss }).ToArray(), backward: true);
        var mixedGradients = runs.Select(r => r.Adapter!.NamedParameters().Select(p => p.Parameter.grad!.clone()).ToArray()).ToArray();
        foreach (var r in runs) r.ZeroGradients();

        for (int i = 0; i < 3; i++)
        {
            var alone = runs[i].ForwardBackward(data[i], loss);
            Assert.Equal(alone.Loss, mixed[i].Loss, 1e-4);
            for (int d = 0; d < data[i].Count; d++)
                for (int t = 0; t < data[i][d].Length; t++)
                    Assert.Equal(alone.Logprobs[d][t], mixed[i].Logprobs[d][t], 1e-5);
            var gradients = runs[i].Adapter!.NamedParameters().Select(p => p.Parameter.grad!).ToArray();
            for (int p = 0; p < gradients.Length; p++)
            {
                float scale = mixedGradients[i][p].abs().max().item<float>();
                float error = (gradients[p] - mixedGradients[i][p]).abs().max().item<float>();
                Assert.True(error <= 1e-5 * Math.Max(1, scale), $"run {i} parameter {p}: |Δgrad| = {error:E3}, scale {scale:E3}");
            }
        }
        foreach (var r in runs) r.Dispose();
    }

    [Fact]
    public void CustomLossThroughTheSurrogateHasTheCustomLossGradient()
    {
        // DPO on a chosen/rejected pair with fixed reference logprobs, β = 0.1:
        // L = −log σ(β[(Σlogp_c − Σref_c) − (Σlogp_r − Σref_r)]).
        using var network = TestModels.Network(Config with { }, dtype: ScalarType.Float64);
        var lora = new LoraConfig { Rank = 4, Alpha = 8 };
        using var surrogate = TrainingRun.FromAdapter(network, TrainingTestData.RandomAdapter(network, lora, seed: 3));
        using var direct = TrainingRun.FromAdapter(network, TrainingTestData.RandomAdapter(network, lora, seed: 3));
        var pair = TrainingTestData.Random(Config.VocabSize, [7, 5], seed: 4);
        double[] reference = [-30.0, -24.0];
        const double beta = 0.1;

        // Client side: logprobs from a forward pass, dL/dlogp from the loss formula.
        var logprobs = surrogate.Forward(pair, LossSpec.Parse("cross_entropy")).Logprobs;
        double margin = beta * ((logprobs[0].Sum(x => (double)x) - reference[0]) - (logprobs[1].Sum(x => (double)x) - reference[1]));
        double dLdMargin = -(1 - 1 / (1 + Math.Exp(-margin)));       // d(−log σ(m))/dm
        var gradients = new[]
        {
            Enumerable.Repeat((float)(dLdMargin * beta), pair[0].Length).ToArray(),
            Enumerable.Repeat((float)(-dLdMargin * beta), pair[1].Length).ToArray(),
        };
        surrogate.ForwardBackwardCustom(pair, gradients);

        // Autograd on the DPO loss itself, computed here from the network's logits.
        using (var scope = NewDisposeScope())
        {
            var adapters = AdapterBatch.For([direct.Adapter]);
            Tensor SequenceLogprob(Datum d)
            {
                var logits = network.Logits(network.Forward(tensor(d.InputTokens.Select(t => (long)t).ToArray()).unsqueeze(0), adapters: adapters), adapters)[0];
                var targets = tensor(d.TargetTokens.Select(t => (long)t).ToArray()).unsqueeze(1);
                return logits.log_softmax(-1).gather(1, targets).sum();
            }
            var m = beta * ((SequenceLogprob(pair[0]) - reference[0]) - (SequenceLogprob(pair[1]) - reference[1]));
            (-nn.functional.logsigmoid(m)).backward();
        }
        foreach (var ((name, a), (_, b)) in surrogate.Adapter!.NamedParameters().Zip(direct.Adapter!.NamedParameters()))
        {
            double scale = b.grad!.abs().max().item<double>();
            double error = (a.grad! - b.grad!).abs().max().item<double>();
            // The surrogate's gradients are fp32 values of dL/dlogp, so agreement is to fp32 precision.
            Assert.True(error <= 1e-6 * Math.Max(1, scale) + 1e-9, $"{name}: |Δgrad| = {error:E3} (scale {scale:E3})");
        }
    }

    [Fact]
    public void SftOnAFixedToySetCutsTheLossTenfold()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 8, Seed = 2 });
        var random = new Random(1);
        var data = Enumerable.Range(0, 4).Select(_ => Datum.ForNextToken(Enumerable.Range(0, 12).Select(_ => random.Next(Config.VocabSize)).ToArray())).ToList();
        var loss = LossSpec.Parse("cross_entropy");
        double first = run.Forward(data, loss).Loss;
        for (int step = 0; step < 60; step++)
        {
            run.ForwardBackward(data, loss);
            run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        }
        double last = run.Forward(data, loss).Loss;
        Assert.True(last < first / 10, $"loss {first:F2} → {last:F2}");
        Assert.Equal(60, run.Step);
    }

    [Fact]
    public void ImportanceSamplingWithPositiveAdvantagesRaisesTheSampledTokensProbability()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 8, Seed = 3 });
        var probe = TrainingTestData.Random(Config.VocabSize, [10, 10], seed: 6);
        var before = run.Forward(probe, LossSpec.Parse("cross_entropy")).Logprobs;
        var data = probe.Select((d, i) => d with { Logprobs = before[i], Advantages = Enumerable.Repeat(1f, d.Length).ToArray() }).ToList();
        for (int step = 0; step < 3; step++)
        {
            run.ForwardBackward(data, LossSpec.Parse("importance_sampling"));
            run.OptimStep(new AdamParams { LearningRate = 1e-3 });
        }
        var after = run.Forward(probe, LossSpec.Parse("cross_entropy")).Logprobs;
        Assert.True(after.SelectMany(x => x).Sum() > before.SelectMany(x => x).Sum() + 1.0);
        Assert.True(after.Zip(before).SelectMany(p => p.First.Zip(p.Second)).Count(x => x.First > x.Second) >= 18);
    }

    [Fact]
    public void NonFiniteGradientRefusesTheStepAndChangesNothing()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4 });
        var data = TrainingTestData.Random(Config.VocabSize, [5], seed: 1);
        run.ForwardBackward(data, LossSpec.Parse("cross_entropy"));
        run.OptimStep(new AdamParams { LearningRate = 1e-2 });
        var weightsBefore = run.Adapter!.NamedParameters().Select(p => p.Parameter.detach().clone()).ToArray();
        var momentsBefore = run.Optimizer.State().Select(s => s.Value.clone()).ToArray();

        run.ForwardBackward(data, LossSpec.Parse("cross_entropy"));
        using (no_grad()) run.Adapter.NamedParameters().First().Parameter.grad![0, 0] = float.NaN;  // a numerical blow-up
        var error = Assert.Throws<NonFiniteGradientException>(() => run.OptimStep(new AdamParams { LearningRate = 1e-2 }));
        Assert.Contains("refused", error.Message);
        Assert.Equal(1, run.Step);
        foreach (var (p, before) in run.Adapter.NamedParameters().Zip(weightsBefore)) Assert.True(p.Parameter.equal(before).all().item<bool>());
        foreach (var (m, before) in run.Optimizer.State().Zip(momentsBefore)) Assert.True(m.Value.equal(before).all().item<bool>());
    }

    [Fact]
    public void BadInputNamesTheFieldAndLeavesGradientsUntouched()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4 });
        var good = TrainingTestData.Random(Config.VocabSize, [5, 4], seed: 1);
        void Refused(List<Datum> data, string loss, string field)
        {
            var e = Assert.Throws<TrainingArgumentException>(() => run.ForwardBackward(data, LossSpec.Parse(loss)));
            Assert.Equal(field, e.Field);
            Assert.All(run.Adapter!.NamedParameters(), p => Assert.Null(p.Parameter.grad));
        }
        Refused([good[0], good[1] with { TargetTokens = [1, 2, 3, Config.VocabSize] }], "cross_entropy", "data[1].loss_fn_inputs.target_tokens");
        Refused([good[0] with { Weights = [1f, 1f] }], "cross_entropy", "data[0].loss_fn_inputs.weights");
        Refused([good[0] with { Advantages = null }], "ppo", "data[0].loss_fn_inputs.advantages");
        Refused([good[0] with { Logprobs = [0, 0, float.NaN, 0, 0] }], "importance_sampling", "data[0].loss_fn_inputs.logprobs");
        Refused([good[0] with { InputTokens = [-1, 0, 0, 0, 0] }], "cross_entropy", "data[0].model_input");
        Assert.Equal("loss_fn", Assert.Throws<TrainingArgumentException>(() => LossSpec.Parse("kl")).Field);
        Assert.Equal("adam_params.beta2", Assert.Throws<TrainingArgumentException>(() => run.OptimStep(new AdamParams { Beta2 = 1 })).Field);
    }

    [Fact]
    public void CapturedGradientsRestoreExactlyAfterAnotherPass()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateLora(network, new LoraConfig { Rank = 4 });
        var data = TrainingTestData.Random(Config.VocabSize, [6, 4], seed: 9);
        var empty = run.CaptureGradients();
        Assert.All(empty, g => Assert.Null(g));
        run.ForwardBackward(data, LossSpec.Parse("cross_entropy"));
        var captured = run.CaptureGradients();
        run.ForwardBackward(data, LossSpec.Parse("cross_entropy"));   // doubles them
        run.RestoreGradients(captured);
        foreach (var ((_, p), c) in run.Adapter!.NamedParameters().Zip(captured))
            Assert.True(p.grad!.equal(c!).all().item<bool>());
        run.RestoreGradients(empty);
        Assert.All(run.Adapter.NamedParameters(), p => Assert.Null(p.Parameter.grad));
    }

    [Fact]
    public void FullFineTuningTrainsEveryParameter()
    {
        using var network = TestModels.Network(Config);
        using var run = TrainingRun.CreateFull(network);
        var data = TrainingTestData.Random(Config.VocabSize, [8, 8], seed: 2);
        var before = network.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var loss = LossSpec.Parse("cross_entropy");
        double first = run.Forward(data, loss).Loss;
        for (int i = 0; i < 20; i++)
        {
            run.ForwardBackward(data, loss);
            run.OptimStep(new AdamParams { LearningRate = 3e-3 });
        }
        double last = run.Forward(data, loss).Loss;
        Assert.True(last < first / 2, $"loss {first:F3} → {last:F3}");
        Assert.All(network.named_parameters(), p => Assert.False(p.parameter.equal(before[p.name]).all().item<bool>(), p.name));
    }
}
