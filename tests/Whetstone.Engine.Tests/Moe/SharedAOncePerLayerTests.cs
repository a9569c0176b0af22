using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>A batch whose rows all carry one shared-A adapter computes each A product once per
/// layer (<see cref="SharedAExpertProducts"/>); a batch that mixes it with a base row takes the
/// per-expert path (an A product per expert). Both must give the same outputs and gradients.</summary>
public class SharedAOncePerLayerTests
{
    [Fact]
    public void OncePerLayerEqualsPerExpertInOutputsAndGradients()
    {
        using var network = MoeTestModels.Load("kimi-tiny", ScalarType.Float64);
        using var adapter = LoraAdapter.Create(network.LoraTargets(), new LoraConfig { Rank = 2, Alpha = 4, Seed = 3, TrainUnembed = false, SharedExpertA = true }, network.Dtype);
        var generator = new Generator(5);
        using (no_grad())
            foreach (var (_, p) in adapter.NamedParameters()) p.copy_(normal(0, 0.3, p.shape, generator: generator).to(p.dtype));

        var tokens = TestModels.RandomTokens(1, 10, network.Config.VocabSize, seed: 8);
        var inputs = tokens.narrow(1, 0, 9);
        var targets = tokens.narrow(1, 1, 9);
        Assert.True(adapter.TryGet("model.layers.1.mlp.experts.0.gate_proj", out var gate0));
        Assert.True(adapter.TryGet("model.layers.2.mlp.experts.0.down_proj", out var down0));
        var watched = new (string Label, Tensor Parameter)[] { ("layer 1 gate A", gate0.A), ("layer 2 down A", down0.A), ("layer 1 expert 0 gate B", gate0.B) };

        (Tensor Logits, Tensor[] Grads) Run(AdapterBatch batch, Tensor input)
        {
            foreach (var (_, p) in adapter.NamedParameters()) p.grad?.zero_();
            var logits = network.Logits(network.Forward(input, adapters: batch)).narrow(0, 0, 1);   // row 0 only
            logits.log_softmax(-1).gather(2, targets.unsqueeze(-1)).sum().backward();
            return (logits.detach().clone(), watched.Select(w => w.Parameter.grad!.clone()).ToArray());
        }

        var sparse = network.named_modules().Select(m => m.module).OfType<MoeFeedForward>().First();
        using var alone = new AdapterBatch([adapter]);
        using var mixed = new AdapterBatch([adapter, null]);
        Assert.NotNull(SharedAExpertProducts.SoleSharedAdapter(alone, sparse.Experts.ToList()));   // once per layer
        Assert.Null(SharedAExpertProducts.SoleSharedAdapter(mixed, sparse.Experts.ToList()));      // per expert

        var once = Run(alone, inputs);
        var perExpert = Run(mixed, cat([inputs, inputs], 0));
        Assert.True((once.Logits - perExpert.Logits).abs().max().item<double>() < 1e-12, "logits differ");
        for (int i = 0; i < watched.Length; i++)
        {
            double scale = perExpert.Grads[i].abs().max().item<double>();
            Assert.True(scale > 1e-6, $"{watched[i].Label}: zero gradient proves nothing");
            Assert.True((once.Grads[i] - perExpert.Grads[i]).abs().max().item<double>() <= 1e-12 * Math.Max(1, scale), $"{watched[i].Label}: gradients differ");
        }
    }
}
