using System.Text.Json.Nodes;
using Whetstone.Engine.Models;
using Whetstone.Engine.Planning;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>The planner's arithmetic: parameter counts against the published figures, and one
/// small plan worked out by hand.</summary>
public class ParallelismPlannerTests
{
    static ModelConfig Fixture(string name) => ModelConfig.Load(Path.Combine(AppContext.BaseDirectory, "Moe", "Fixtures", name));

    [Fact]
    public void DeepSeekV3CountsAre671BTotalAnd37BActive()
    {
        var f = ModelFootprint.Of(Fixture("deepseek-v3"));
        Assert.Equal(58, f.SparseLayers);
        // Published: 671B total (the main model, without the 14B multi-token-prediction module), 37B activated.
        Assert.InRange(f.Total / 1e9, 671 * 0.995, 671 * 1.005);
        Assert.InRange(f.ActivePerToken / 1e9, 37 * 0.98, 37 * 1.03);
    }

    [Fact]
    public void KimiK2CountsAreAboutOneTrillionTotalAnd32BActive()
    {
        var config = Fixture("kimi-k2");
        Assert.Equal("kimi_k2", config.ModelTypeName);
        var f = ModelFootprint.Of(config);
        Assert.Equal(60, f.SparseLayers);
        // Published: "1.04T total / 32B activated" (Mind Lab), "1T" (model card), 1.026T (counted).
        Assert.InRange(f.Total / 1e12, 1.02, 1.04);
        Assert.InRange(f.ActivePerToken / 1e9, 32, 33.5);
        // MLA caches 512 + 64 numbers per token per layer: 70,272 bytes in bf16 over 61 layers,
        // against 61 · 64 heads · (192 + 128) · 2 = 2,498,560 bytes for full per-head keys and values.
        Assert.Equal(61L * 576 * 2, KvCache.BytesPerToken(config, 2));
    }

    /// <summary>A 2-layer MLA model with one MoE layer; every figure below is worked out by hand in the comments.</summary>
    static ModelConfig Small() => ModelConfig.Parse(JsonNode.Parse("""
        {"architectures": ["DeepseekV3ForCausalLM"], "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 2, "num_attention_heads": 4, "q_lora_rank": null, "kv_lora_rank": 16, "qk_nope_head_dim": 8,
         "qk_rope_head_dim": 4, "v_head_dim": 8, "n_routed_experts": 4, "num_experts_per_tok": 2, "n_shared_experts": 1,
         "moe_intermediate_size": 32, "first_k_dense_replace": 1, "n_group": 1, "topk_group": 1, "tie_word_embeddings": false}
        """)!.AsObject());

    [Fact]
    public void SmallConfigCountsByHand()
    {
        var f = ModelFootprint.Of(Small());
        // embed + lm_head 2·100·64 = 12,800. Attention: q_proj 64·4·12 = 3,072, kv_a 64·20 = 1,280,
        // kv_a_layernorm 16, kv_b 16·4·16 = 1,024, o 32·64 = 2,048: 7,440 per layer.
        Assert.Equal(12_800, f.Embedding);
        Assert.Equal(7_440, f.AttentionPerLayer);
        // Dense layer 0: 3·64·128 = 24,576. Layer 1: 4 experts × 3·64·32 = 24,576 routed, shared 6,144, router 4·64 + 4.
        Assert.Equal(24_576, f.RoutedExpertTotal);
        Assert.Equal(12_800 + 64 + 2 * (7_440 + 128) + 24_576 + 6_144 + 260 + 24_576, f.Total);   // 83,556
        Assert.Equal(83_556 - 24_576 + 2 * 6_144, f.ActivePerToken);                            // 71,268
        // LoRA rank 4: attention r·(in+out) = 448 + 336 + 320 + 384 = 1,488 per layer; dense MLP 2·768 + 768;
        // each expert 2·384 + 384 = 1,152 (×4 routed, ×1 shared).
        Assert.Equal(2 * 1_488, ModelFootprint.LoraParameters(Small(), 4, experts: false));
        Assert.Equal(2 * 1_488 + 2_304 + 4 * 1_152 + 1_152, ModelFootprint.LoraParameters(Small(), 4, experts: true));   // 11,040
        // Shared A: one A per projection kind (4·(64 + 64 + 32)) and a B per expert (4 · 4·(32 + 32 + 64)).
        Assert.Equal(2 * 1_488 + 2_304 + (4 * 160 + 4 * 4 * 128) + 1_152, ModelFootprint.LoraParameters(Small(), 4, experts: true, sharedExpertA: true));
    }

    [Fact]
    public void SmallPlanByHand()
    {
        var request = new PlanRequest { Config = Small(), Gpus = 2, LoraRank = 4, SeqLen = 16, Batch = 2 };
        var plan = ParallelismPlanner.Estimate(request, tp: 1, pp: 1, ep: 2, dp: 2);
        // Weights bf16: non-experts 58,980 whole + half of the 24,576 routed = 71,268 params · 2 B.
        Assert.Equal(142_536, plan.WeightBytes);
        // Adapters: 11,040 − 4,608 routed whole + 4,608 / 2 = 8,736 params · 16 B.
        Assert.Equal(139_776, plan.TrainingStateBytes);
        // One sequence in flight: 2 layers · 16 · 64 · 2 B = 4,096 checkpoints, + 34·16·64 = 34,816 working set,
        // + MoE working set 16·2 tokens · (3·32 + 2·64) · 2 B = 14,336.
        Assert.Equal(53_248, plan.ActivationBytes);
        Assert.Equal(16 * 100 * 4 * 2, plan.LogitBytes);         // fp32 logits and their gradient
        Assert.Equal(16 * 2 * (16 + 4) * 2, plan.RolloutKvBytes); // one sequence per GPU, latent + rope key, bf16
        // Forward FLOPs per token: 2 · 71,268 + 2 · 2 layers · 8 (mean causal length) · 4 heads · (12 + 8) = 145,096;
        // 3 passes (LoRA), 32 tokens, over 2 GPUs at 989 TFLOP/s · 40 %.
        Assert.Equal(32 * 145_096 * 3 / (2 * 989e12 * 0.4), plan.ComputeSeconds, 1e-20);
        Assert.Equal(0, plan.BubbleSeconds);
        // Full fine-tuning of the same layout: 4 B grads + 12 B optimizer ÷ 2 replicas for the rest;
        // experts have (TP·DP)/EP = 1 replica each.
        var full = ParallelismPlanner.Estimate(request with { LoraRank = 0 }, 1, 1, 2, 2);
        Assert.Equal(58_980 * 10 + 12_288 * 16, full.TrainingStateBytes);
    }

    [Fact]
    public void KimiK2LoraRlFitsOn64GpusAndFullFineTuningDoesNot()
    {
        var request = new PlanRequest { Config = Fixture("kimi-k2"), Gpus = 64, LoraRank = 128, SeqLen = 32768, Batch = 64, Fp8Weights = true };
        var lora = ParallelismPlanner.Best(request);
        Assert.NotNull(lora);
        Assert.True(lora.TrainingPhaseBytes <= lora.UsableBytes);
        Assert.Null(ParallelismPlanner.Best(request with { LoraRank = 0, Fp8Weights = false }));
        var full = ParallelismPlanner.SmallestFit(request with { LoraRank = 0, Fp8Weights = false });
        Assert.NotNull(full);
        Assert.True(full.Value.Gpus >= 256, $"full fine-tuning fitted on {full.Value.Gpus} GPUs");
    }
}
