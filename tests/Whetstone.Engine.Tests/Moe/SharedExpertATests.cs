using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>Shared-A expert adapters: one A per layer and projection for all routed experts, a B
/// per expert. The shared A's gradient (the sum over every expert that used it) matches finite
/// differences; checkpoints keep the sharing; a PEFT export is a plain per-expert adapter that
/// computes the same.</summary>
public class SharedExpertATests
{
    static readonly LoraConfig Shared = new() { Rank = 2, Alpha = 4, Seed = 1, TrainUnembed = false, SharedExpertA = true };

    static LoraAdapter RandomShared(CausalLanguageModel network, long seed)
    {
        var adapter = LoraAdapter.Create(network.LoraTargets(), Shared with { Seed = seed }, network.Dtype);
        var generator = new Generator((ulong)seed);
        using (no_grad())
            foreach (var (_, p) in adapter.NamedParameters()) p.copy_(normal(0, 0.3, p.shape, generator: generator).to(p.dtype));
        return adapter;
    }

    [Fact]
    public void ExpertsOfALayerShareOneAAndKeepTheirOwnB()
    {
        using var network = MoeTestModels.Load("kimi-tiny");
        using var shared = LoraAdapter.Create(network.LoraTargets(), Shared, network.Dtype);
        using var perExpert = LoraAdapter.Create(network.LoraTargets(), Shared with { SharedExpertA = false }, network.Dtype);
        Assert.True(shared.TryGet("model.layers.1.mlp.experts.0.gate_proj", out var e0));
        Assert.True(shared.TryGet("model.layers.1.mlp.experts.15.gate_proj", out var e15));
        Assert.True(shared.TryGet("model.layers.2.mlp.experts.0.gate_proj", out var otherLayer));
        Assert.True(shared.TryGet("model.layers.1.mlp.shared_experts.gate_proj", out var sharedExpert));
        Assert.Same(e0.A, e15.A);
        Assert.NotSame(e0.B, e15.B);
        Assert.NotSame(e0.A, otherLayer.A);
        Assert.NotSame(e0.A, sharedExpert.A);   // the always-on shared expert is not a routed one
        var names = shared.NamedParameters().Select(p => p.Name).ToList();
        Assert.Contains("model.layers.1.mlp.experts.gate_proj.lora_A.weight", names);
        Assert.DoesNotContain("model.layers.1.mlp.experts.3.gate_proj.lora_A.weight", names);
        Assert.Contains("model.layers.1.mlp.experts.3.gate_proj.lora_B.weight", names);
        Assert.Equal(names.Count, names.Distinct().Count());
        // kimi-tiny: 2 sparse layers × 3 projections × 15 experts no longer have an A each.
        // gate/up A: [2, 64]; down A: [2, 32].
        long saved = 2 * 15 * (2 * 64 + 2 * 64 + 2 * 32);
        Assert.Equal(perExpert.ParameterCount - saved, shared.ParameterCount);
    }

    [Fact]
    public void SharedAGradientMatchesFiniteDifferences()
    {
        using var network = MoeTestModels.Load("kimi-tiny", ScalarType.Float64);
        using var adapter = RandomShared(network, seed: 2);
        using var batch = new AdapterBatch([adapter]);
        var tokens = TestModels.RandomTokens(1, 10, network.Config.VocabSize, seed: 4);
        var inputs = tokens.narrow(1, 0, 9);
        var targets = tokens.narrow(1, 1, 9);
        Tensor LossTensor() => network.Logits(network.Forward(inputs, adapters: batch)).log_softmax(-1).gather(2, targets.unsqueeze(-1)).sum();
        long expert;   // one the first token of layer 1 uses, so its B carries gradient
        using (no_grad())
        {
            using var routing = ExpertRouting.Recorder();
            network.Forward(inputs, adapters: batch, routing: routing);
            expert = routing.Experts[1][0, 0, 0].item<long>();
        }
        LossTensor().backward();
        Assert.True(adapter.TryGet($"model.layers.1.mlp.experts.{expert}.up_proj", out var w));
        foreach (var (parameter, label) in new[] { (w.A, "shared A"), (w.B, $"expert {expert}'s B") })
        {
            for (int index = 0; index < 3; index++)
            {
                double analytic = parameter.grad!.data<double>()[index];
                const double eps = 1e-6;
                double original;
                using (no_grad()) { original = parameter.data<double>()[index]; parameter.flatten()[index] = original + eps; }
                double plus = LossTensor().item<double>();
                using (no_grad()) parameter.flatten()[index] = original - eps;
                double minus = LossTensor().item<double>();
                using (no_grad()) parameter.flatten()[index] = original;
                double numeric = (plus - minus) / (2 * eps);
                if (label == "shared A") Assert.True(Math.Abs(analytic) > 1e-8, $"{label}[{index}]: zero gradient proves nothing");
                Assert.True(Math.Abs(analytic - numeric) <= 1e-6 * Math.Max(1, Math.Abs(numeric)), $"{label}[{index}]: analytic {analytic:E6} vs finite difference {numeric:E6}");
            }
        }
    }

    [Fact]
    public void CheckpointKeepsTheSharingAndPeftExportComputesTheSame()
    {
        using var network = MoeTestModels.Load("kimi-tiny");
        var adapter = RandomShared(network, seed: 7);
        using var run = TrainingRun.FromAdapter(network, adapter);   // disposes the adapter
        var state = Path.Combine(TestModels.TempDirectory(), "state");
        TrainingCheckpoint.Save(run, state);
        using var restored = TrainingCheckpoint.LoadLora(network, state, withOptimizer: true);
        Assert.True(restored.Adapter!.Config.SharedExpertA);
        Assert.True(restored.Adapter.TryGet("model.layers.2.mlp.experts.4.down_proj", out var r4));
        Assert.True(restored.Adapter.TryGet("model.layers.2.mlp.experts.9.down_proj", out var r9));
        Assert.Same(r4.A, r9.A);
        Assert.Equal(adapter.ParameterCount, restored.Adapter.ParameterCount);

        var peft = Path.Combine(TestModels.TempDirectory(), "peft");
        PeftAdapter.Save(adapter, peft, "kimi-tiny");
        using var imported = PeftAdapter.Load(peft, network);
        Assert.True(imported.TryGet("model.layers.2.mlp.experts.9.down_proj", out var i9));
        Assert.True(i9.A.eq(r9.A).all().item<bool>());

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = TestModels.RandomTokens(2, 8, network.Config.VocabSize, seed: 6);
        var logits = new[] { adapter, restored.Adapter, imported }.Select(a =>
        {
            using var batch = new AdapterBatch([a, a]);
            return network.Logits(network.Forward(tokens, adapters: batch));
        }).ToArray();
        Assert.Equal(0.0, (logits[1] - logits[0]).abs().max().item<float>());
        // The PEFT import is a per-expert adapter (equal A's), so it runs an A product per expert
        // where the shared-A adapter runs one per layer: equal up to fp32 rounding.
        Assert.True((logits[2] - logits[0]).abs().max().item<float>() < 1e-5);

        // A per-expert adapter whose experts' A differ cannot be read as shared-A.
        using var perExpert = LoraAdapter.Create(network.LoraTargets(), Shared with { SharedExpertA = false }, network.Dtype);
        var error = Assert.Throws<InvalidDataException>(() => LoraAdapter.FromTensors(network.LoraTargets(), Shared,
            t => perExpert.TryGet(t.Name, out var pw) ? (pw.A.detach().clone(), pw.B.detach().clone()) : null));
        Assert.Contains("lora_A differs from the other experts'", error.Message);
    }
}
