using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>DeepSeek-V3 / Kimi K2 and Qwen3-MoE networks on init-model checkpoints: against the
/// independent fp64 reference, and cached decoding against the full forward.</summary>
public class MoeModelParityTests
{
    public static IEnumerable<object[]> Presets() => MoeTestModels.Presets();

    [Theory]
    [MemberData(nameof(Presets))]
    public void LogprobsMatchTheFp64ReferenceAndExpertsAgree(string preset)
    {
        var directory = MoeTestModels.Write(preset);
        var config = ModelConfig.Load(directory);
        using var network = TestModels.LoadNetwork(directory, ScalarType.Float64);
        var tokens = Enumerable.Range(0, 24).Select(i => (i * 37 + 11) % config.VocabSize).ToArray();
        var reference = new MoeReferenceTransformer(directory, config);
        var expected = reference.Logits(tokens);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var routing = ExpertRouting.Recorder();
        var logits = network.Logits(network.Forward(tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0), routing: routing))[0];
        var actual = logits.log_softmax(-1).data<double>().ToArray();
        int vocab = config.VocabSize;
        double worst = 0;
        for (int t = 0; t < tokens.Length; t++)
        {
            double max = expected[t].Max(), logSum = max + Math.Log(expected[t].Sum(z => Math.Exp(z - max)));
            for (int j = 0; j < vocab; j++) worst = Math.Max(worst, Math.Abs(expected[t][j] - logSum - actual[t * vocab + j]));
        }
        Assert.True(worst < 1e-5, $"max |Δlogprob| = {worst:E3}");

        // The same experts, token by token, on every sparse layer (as sets: top-k order is free).
        Assert.Equal(reference.Choices.Keys.Order(), routing.Experts.Keys.Order());
        Assert.NotEmpty(routing.Experts);
        foreach (var (layer, chosen) in routing.Experts)
        {
            var ours = chosen[0].data<long>().ToArray();
            int k = (int)chosen.shape[2];
            for (int t = 0; t < tokens.Length; t++)
                Assert.Equal(reference.Choices[layer][t].Order(), ours.Skip(t * k).Take(k).Select(e => (int)e).Order());
        }
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void KvCacheDecodeEqualsFullForward(string preset)
    {
        using var network = MoeTestModels.Load(preset);
        var config = network.Config;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        const int length = 14;
        var tokens = TestModels.RandomTokens(2, length, config.VocabSize, seed: 7);
        var full = network.Logits(network.Forward(tokens));                         // [2, 14, V]

        // Row 1 prefills only 3 real tokens, right-padded with two garbage tokens whose cache
        // entries must be masked and then overwritten.
        int[] prefill = [5, 3];
        var prefillTokens = tokens[TensorIndex.Colon, TensorIndex.Slice(0, 5)].clone();
        prefillTokens[1, TensorIndex.Slice(3, 5)] = tensor(new long[] { 42, 43 });
        using var cache = network.CreateCache(2, length);
        var prefillLogits = network.Logits(network.Forward(prefillTokens, arange(5, dtype: ScalarType.Int64).unsqueeze(0).expand(2, -1), cache));
        for (int row = 0; row < 2; row++)
            AssertClose(full[row, TensorIndex.Slice(0, prefill[row])], prefillLogits[row, TensorIndex.Slice(0, prefill[row])]);
        for (int step = 0; step < length - 5; step++)
        {
            var positions = tensor(new long[] { prefill[0] + step, prefill[1] + step }).unsqueeze(1);
            var stepLogits = network.Logits(network.Forward(tokens.gather(1, positions), positions, cache));
            for (int row = 0; row < 2; row++)
                AssertClose(full[row, prefill[row] + step], stepLogits[row, 0]);
        }
    }

    [Fact]
    public void LatentCacheHoldsTheLatentAndTheSharedRopeKeyOnly()
    {
        using var network = MoeTestModels.Load("kimi-tiny");
        var c = network.Config;
        using var cache = network.CreateCache(1, 8);
        // kimi-tiny: 3 layers × (kv_lora_rank 32 + rope 8) × 4 bytes = 480 bytes per token.
        Assert.Equal(3 * (32 + 8) * 4, KvCache.BytesPerToken(c, 4));
        Assert.Equal(KvCache.BytesPerToken(c, 4), cache.AllocatedBytesPerToken);
        // The same heads cached as full keys and values (what the reference code's cache holds):
        // 3 × 4 heads × ((16 + 8) + 16) × 4 bytes.
        Assert.Equal(3 * 4 * (24 + 16) * 4, c.NumHiddenLayers * c.NumAttentionHeads * (c.Mla!.QkHeadDim + c.Mla.VHeadDim) * 4);
    }

    [Fact]
    public void ConfigsPlaceSparseLayersAndRoundTrip()
    {
        var kimi = ModelConfig.Load(MoeTestModels.Write("kimi-tiny"));
        Assert.Equal(ModelFamily.DeepseekV3, kimi.Family);
        Assert.Equal("kimi_k2", kimi.ModelTypeName);
        Assert.Equal([false, true, true], Enumerable.Range(0, 3).Select(kimi.Moe!.IsSparseLayer));
        Assert.Equal("kimi_k2", kimi.ToJson()["model_type"]!.GetValue<string>());
        Assert.Equal(8, kimi.HeadDim);   // the rotary width
        var qwen = ModelConfig.Load(MoeTestModels.Write("qwen3moe-tiny"));
        Assert.Equal([true, false, true], Enumerable.Range(0, 3).Select(qwen.Moe!.IsSparseLayer));   // mlp_only_layers [1]
        var qproj = ModelConfig.Load(MoeTestModels.Write("deepseek-tiny-qproj"));
        Assert.Null(qproj.Mla!.QLoraRank);
        Assert.Null(qproj.ToJson()["q_lora_rank"]);
        Assert.True(qproj.ToJson().ContainsKey("q_lora_rank"));
    }

    static void AssertClose(Tensor expected, Tensor actual)
    {
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff < 1e-4, $"max |Δlogit| = {diff:E3}");
    }
}
