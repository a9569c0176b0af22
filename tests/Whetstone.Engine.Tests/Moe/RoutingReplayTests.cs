using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>Routing replay: experts recorded while decoding with the cache are replayed in a
/// full forward (the learner's pass).</summary>
public class RoutingReplayTests
{
    [Fact]
    public void ReplayedRoutingReproducesTheSamplersLogprobs()
    {
        using var network = MoeTestModels.Load("kimi-tiny");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        const int length = 12, prompt = 4;
        var tokens = TestModels.RandomTokens(1, length, network.Config.VocabSize, seed: 11);

        // The sampler: a prefill of 4 tokens, then one token per step, recording experts.
        using var recorder = ExpertRouting.Recorder();
        using var cache = network.CreateCache(1, length);
        var sampled = new List<Tensor> { network.Logits(network.Forward(tokens.narrow(1, 0, prompt), arange(prompt, dtype: ScalarType.Int64).unsqueeze(0), cache, routing: recorder)) };
        for (int t = prompt; t < length; t++)
            sampled.Add(network.Logits(network.Forward(tokens.narrow(1, t, 1), tensor(new long[] { t }).unsqueeze(0), cache, routing: recorder)));
        var samplerLogprobs = cat(sampled, 1).log_softmax(-1);
        Assert.Equal([1L, length, 4L], recorder.Experts[1].shape);   // [B, T, k] on each sparse layer
        Assert.Equal([1, 2], recorder.Experts.Keys.Order());         // layer 0 is dense (first_k_dense_replace 1)

        using var replay = ExpertRouting.Replay(recorder.Experts);
        var learnerLogprobs = network.Logits(network.Forward(tokens, routing: replay)).log_softmax(-1);
        double diff = (learnerLogprobs - samplerLogprobs).abs().max().item<float>();
        Assert.True(diff < 1e-5, $"max |Δlogprob| = {diff:E3}");

        // Replay really decides: other experts (each choice shifted by one) give other logprobs.
        var shifted = recorder.Experts.ToDictionary(kv => kv.Key, kv => (kv.Value + 1).remainder(16));
        using var other = ExpertRouting.Replay(shifted);
        double moved = (network.Logits(network.Forward(tokens, routing: other)).log_softmax(-1) - samplerLogprobs).abs().max().item<float>();
        Assert.True(moved > 1e-3, $"shifted experts moved logprobs by only {moved:E3}");
    }

    [Fact]
    public void ReplayRefusesAShapeThatIsNotTheForwards()
    {
        using var network = MoeTestModels.Load("kimi-tiny");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var replay = ExpertRouting.Replay(new Dictionary<int, Tensor> { [1] = zeros([1, 3, 4], ScalarType.Int64), [2] = zeros([1, 3, 4], ScalarType.Int64) });
        var error = Assert.Throws<ArgumentException>(() => network.Forward(TestModels.RandomTokens(1, 5, network.Config.VocabSize, 1), routing: replay));
        Assert.Contains("[1, 5, k]", error.Message);
    }
}
