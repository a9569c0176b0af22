using Whetstone.Engine.Formats;
using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.ModelMaker;

/// <summary>Random initial weights for a config, named and shaped exactly as a Hugging Face
/// checkpoint of that family: projections and embeddings ~ N(0, 0.02²) (the families'
/// initializer_range), norms 1, biases small.</summary>
public static class RandomWeights
{
    public static List<KeyValuePair<string, Tensor>> Create(ModelConfig config, long seed, ScalarType dtype)
    {
        var generator = new Generator((ulong)seed);
        var weights = new List<KeyValuePair<string, Tensor>>();
        void Normal(string name, params long[] shape) =>
            weights.Add(new(name, (normal(0, 0.02, shape, generator: generator, device: CPU)).to(dtype)));
        void Ones(string name, long size) => weights.Add(new(name, ones(size, dtype, device: CPU)));   // written to a checkpoint file

        void SwiGlu(string p, long hiddenSize, long width)
        {
            Normal($"{p}.gate_proj.weight", width, hiddenSize);
            Normal($"{p}.up_proj.weight", width, hiddenSize);
            Normal($"{p}.down_proj.weight", hiddenSize, width);
        }

        long hidden = config.HiddenSize, inter = config.IntermediateSize, d = config.HeadDim;
        long q = config.NumAttentionHeads * d, kv = config.NumKeyValueHeads * d;
        Normal("model.embed_tokens.weight", config.VocabSize, hidden);
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string p = $"model.layers.{i}";
            Ones($"{p}.input_layernorm.weight", hidden);
            Ones($"{p}.post_attention_layernorm.weight", hidden);
            if (config.Mla is MlaShape mla) LatentAttention($"{p}.self_attn", mla);
            else Attention(p);
            if (config.Moe is MoeShape moe && moe.IsSparseLayer(i))
            {
                Normal($"{p}.mlp.gate.weight", moe.RoutedExperts, hidden);
                // Zero in a fresh DeepSeek model; random here so that tests see it steer choices.
                if (moe.ScoreCorrectionBias) weights.Add(new($"{p}.mlp.gate.e_score_correction_bias", normal(0, 0.02, [moe.RoutedExperts], generator: generator, device: CPU)));
                for (int e = 0; e < moe.RoutedExperts; e++) SwiGlu($"{p}.mlp.experts.{e}", hidden, moe.MoeIntermediateSize);
                if (moe.SharedExperts > 0) SwiGlu($"{p}.mlp.shared_experts", hidden, (long)moe.SharedExperts * moe.MoeIntermediateSize);
            }
            else SwiGlu($"{p}.mlp", hidden, inter);
        }
        Ones("model.norm.weight", hidden);
        if (!config.TieWordEmbeddings) Normal("lm_head.weight", config.VocabSize, hidden);
        if (config.Vision is { Architecture: Models.Vision.VisionArchitecture.Qwen3Vl }) return RandomQwen3VisionWeights.Add(config, weights, generator);
        if (config.Vision is { } v)
        {
            // Qwen2.5-VL's "visual.*" tensors, shapes as in its checkpoints.
            long w = v.HiddenSize, vi = v.IntermediateSize, group = w * v.SpatialMergeSize * v.SpatialMergeSize;
            // A frozen encoder's weights come from its package: only the projector is stored.
            if (v.FrozenEncoder is null) Normal("visual.patch_embed.proj.weight", w, v.InChannels, v.TemporalPatchSize, v.PatchSize, v.PatchSize);
            for (int i = 0; i < v.Depth; i++)
            {
                string p = $"visual.blocks.{i}";
                Ones($"{p}.norm1.weight", w);
                Ones($"{p}.norm2.weight", w);
                Normal($"{p}.attn.qkv.weight", 3 * w, w);
                Normal($"{p}.attn.qkv.bias", 3 * w);
                Normal($"{p}.attn.proj.weight", w, w);
                Normal($"{p}.attn.proj.bias", w);
                Normal($"{p}.mlp.gate_proj.weight", vi, w);
                Normal($"{p}.mlp.gate_proj.bias", vi);
                Normal($"{p}.mlp.up_proj.weight", vi, w);
                Normal($"{p}.mlp.up_proj.bias", vi);
                Normal($"{p}.mlp.down_proj.weight", w, vi);
                Normal($"{p}.mlp.down_proj.bias", w);
            }
            Ones("visual.merger.ln_q.weight", w);
            Normal("visual.merger.mlp.0.weight", group, group);
            Normal("visual.merger.mlp.0.bias", group);
            Normal("visual.merger.mlp.2.weight", hidden, group);
            Normal("visual.merger.mlp.2.bias", hidden);
        }
        return weights;

        void LatentAttention(string p, MlaShape mla)
        {
            long heads = config.NumAttentionHeads;
            if (mla.QLoraRank is int qRank)
            {
                Normal($"{p}.q_a_proj.weight", qRank, hidden);
                Ones($"{p}.q_a_layernorm.weight", qRank);
                Normal($"{p}.q_b_proj.weight", heads * mla.QkHeadDim, qRank);
            }
            else Normal($"{p}.q_proj.weight", heads * mla.QkHeadDim, hidden);
            Normal($"{p}.kv_a_proj_with_mqa.weight", mla.KvLoraRank + mla.QkRopeHeadDim, hidden);
            Ones($"{p}.kv_a_layernorm.weight", mla.KvLoraRank);
            Normal($"{p}.kv_b_proj.weight", heads * (mla.QkNopeHeadDim + mla.VHeadDim), mla.KvLoraRank);
            Normal($"{p}.o_proj.weight", hidden, heads * mla.VHeadDim);
        }

        void Attention(string p)
        {
            Normal($"{p}.self_attn.q_proj.weight", q, hidden);
            Normal($"{p}.self_attn.k_proj.weight", kv, hidden);
            Normal($"{p}.self_attn.v_proj.weight", kv, hidden);
            if (config.AttentionBias)
            {
                Normal($"{p}.self_attn.q_proj.bias", q);
                Normal($"{p}.self_attn.k_proj.bias", kv);
                Normal($"{p}.self_attn.v_proj.bias", kv);
            }
            Normal($"{p}.self_attn.o_proj.weight", hidden, q);
            if (config.QkNorm)
            {
                Ones($"{p}.self_attn.q_norm.weight", d);
                Ones($"{p}.self_attn.k_norm.weight", d);
            }
        }
    }

    /// <summary>The layers' 2-D projection weights as fp8 bits + weight_scale_inv blocks (the
    /// released DeepSeek-V3 layout: embeddings, lm_head, norms and the router stay as they are).</summary>
    public static (List<KeyValuePair<string, Tensor>> Tensors, IReadOnlySet<string> Float8Names) ToFloat8(List<KeyValuePair<string, Tensor>> weights)
    {
        var result = new List<KeyValuePair<string, Tensor>>();
        var float8 = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in weights)
        {
            bool projection = name.StartsWith("model.layers.", StringComparison.Ordinal) && name.EndsWith("proj.weight", StringComparison.Ordinal)
                || name.EndsWith("proj_with_mqa.weight", StringComparison.Ordinal);
            if (!projection || tensor.dim() != 2) { result.Add(new(name, tensor)); continue; }
            var (bits, scaleInverse) = Fp8BlockDequantizer.Quantize(tensor);
            result.Add(new(name, bits));
            result.Add(new(name + "_scale_inv", scaleInverse));
            float8.Add(name);
        }
        return (result, float8);
    }
}
