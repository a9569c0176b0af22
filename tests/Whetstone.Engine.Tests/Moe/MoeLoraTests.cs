using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>LoRA on MLA projections, shared experts and every routed expert (per-expert A and B,
/// under train_mlp): gradients against finite differences through the router and the experts,
/// multi-adapter batches, and a PEFT round trip with the published module names.</summary>
public class MoeLoraTests
{
    static LoraAdapter RandomAdapter(CausalLanguageModel network, long seed)
    {
        var adapter = LoraAdapter.Create(network.LoraTargets(), new LoraConfig { Rank = 2, Alpha = 4, Seed = seed, TrainUnembed = false }, network.Dtype);
        // B starts at zero; random factors make every adapted path carry an update and a gradient.
        var generator = new Generator((ulong)seed);
        using (no_grad())
            foreach (var (_, p) in adapter.NamedParameters()) p.copy_(normal(0, 0.3, p.shape, generator: generator).to(p.dtype));
        return adapter;
    }

    [Fact]
    public void ExpertsAndMlaProjectionsAreTargetsUnderTheirHuggingFaceNames()
    {
        using var network = MoeTestModels.Load("kimi-tiny");
        var names = network.LoraTargets().Select(t => t.Name).ToHashSet();
        foreach (var name in new[]
        {
            "model.layers.0.self_attn.q_a_proj", "model.layers.0.self_attn.q_b_proj", "model.layers.0.self_attn.kv_a_proj_with_mqa",
            "model.layers.0.self_attn.kv_b_proj", "model.layers.0.self_attn.o_proj", "model.layers.0.mlp.down_proj",
            "model.layers.1.mlp.shared_experts.up_proj", "model.layers.1.mlp.experts.0.gate_proj", "model.layers.2.mlp.experts.15.down_proj",
        })
            Assert.Contains(name, names);
        Assert.Equal(LoraTargetGroup.Mlp, network.LoraTargets().Single(t => t.Name == "model.layers.1.mlp.experts.7.up_proj").Group);
        Assert.DoesNotContain(names, n => n.Contains(".mlp.gate", StringComparison.Ordinal) && !n.Contains("gate_proj", StringComparison.Ordinal));   // the router is not adapted
    }

    [Fact]
    public void GradientsMatchFiniteDifferencesThroughRouterAndExperts()
    {
        using var network = MoeTestModels.Load("kimi-tiny", ScalarType.Float64);
        using var adapter = RandomAdapter(network, seed: 2);
        using var batch = new AdapterBatch([adapter]);
        var tokens = TestModels.RandomTokens(1, 10, network.Config.VocabSize, seed: 4);
        var inputs = tokens.narrow(1, 0, 9);
        var targets = tokens.narrow(1, 1, 9);
        double Loss() => LossTensor().item<double>();
        Tensor LossTensor() => network.Logits(network.Forward(inputs, adapters: batch)).log_softmax(-1).gather(2, targets.unsqueeze(-1)).sum();

        // An expert the first token of layer 1 actually uses, so its factors carry gradient.
        long expert;
        using (no_grad())
        {
            using var routing = ExpertRouting.Recorder();
            network.Forward(inputs, adapters: batch, routing: routing);
            expert = routing.Experts[1][0, 0, 0].item<long>();
        }
        var loss = LossTensor();
        loss.backward();
        var checks = new (string Module, bool A)[]
        {
            ($"model.layers.1.mlp.experts.{expert}.gate_proj", true),
            ($"model.layers.1.mlp.experts.{expert}.down_proj", false),
            ("model.layers.1.mlp.shared_experts.up_proj", true),
            ("model.layers.0.self_attn.q_a_proj", true),          // upstream of both routers: through gate weights and experts
            ("model.layers.1.self_attn.kv_b_proj", false),
        };
        foreach (var (module, isA) in checks)
        {
            Assert.True(adapter.TryGet(module, out var weights), module);
            var parameter = isA ? weights.A : weights.B;
            double analytic = parameter.grad!.data<double>()[1];
            const double eps = 1e-6;
            double original;
            using (no_grad()) { original = parameter.data<double>()[1]; parameter.flatten()[1] = original + eps; }
            double plus = Loss();
            using (no_grad()) parameter.flatten()[1] = original - eps;
            double minus = Loss();
            using (no_grad()) parameter.flatten()[1] = original;
            double numeric = (plus - minus) / (2 * eps);
            Assert.True(Math.Abs(analytic) > 1e-8, $"{module}: gradient {analytic:E3} is zero, the check would prove nothing");
            Assert.True(Math.Abs(analytic - numeric) <= 1e-6 * Math.Max(1, Math.Abs(numeric)), $"{module} {(isA ? "A" : "B")}: analytic {analytic:E6} vs finite difference {numeric:E6}");
        }
    }

    [Fact]
    public void MultiAdapterBatchesMatchEachAdapterAlone()
    {
        using var network = MoeTestModels.Load("kimi-tiny", ScalarType.Float64);
        using var first = RandomAdapter(network, seed: 3);
        using var second = RandomAdapter(network, seed: 5);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = TestModels.RandomTokens(3, 8, network.Config.VocabSize, seed: 6);
        using var mixed = new AdapterBatch([first, null, second]);
        var together = network.Logits(network.Forward(tokens, adapters: mixed));
        LoraAdapter?[] rowAdapters = [first, null, second];
        for (int row = 0; row < 3; row++)
        {
            using var alone = new AdapterBatch([rowAdapters[row]]);
            var single = network.Logits(network.Forward(tokens.narrow(0, row, 1), adapters: alone));
            double diff = (single[0] - together[row]).abs().max().item<double>();
            Assert.True(diff < 1e-10, $"row {row}: max |Δlogit| = {diff:E3}");
        }
        // The adapters change the experts' outputs (the check above is not between identical base rows).
        var baseLogits = network.Logits(network.Forward(tokens.narrow(0, 0, 1)));
        Assert.True((baseLogits[0] - together[0]).abs().max().item<double>() > 1e-4);
    }

    [Fact]
    public void PeftRoundTripKeepsExpertFactors()
    {
        using var network = MoeTestModels.Load("kimi-tiny");
        using var adapter = RandomAdapter(network, seed: 7);
        var directory = Path.Combine(TestModels.TempDirectory(), "adapter");
        PeftAdapter.Save(adapter, directory, "kimi-tiny");
        using (var file = new SafetensorsFile(Path.Combine(directory, PeftAdapter.WeightsFileName)))
        {
            Assert.Contains("base_model.model.model.layers.2.mlp.experts.9.down_proj.lora_B.weight", file.TensorNames);
            Assert.Contains("base_model.model.model.layers.0.self_attn.kv_a_proj_with_mqa.lora_A.weight", file.TensorNames);
        }
        using var loaded = PeftAdapter.Load(directory, network);
        Assert.Equal(adapter.Weights.Count, loaded.Weights.Count);
        foreach (var w in adapter.Weights)
        {
            Assert.True(loaded.TryGet(w.Target.Name, out var back), w.Target.Name);
            Assert.True(w.A.eq(back.A).all().item<bool>() && w.B.eq(back.B).all().item<bool>(), w.Target.Name);
        }
    }
}
