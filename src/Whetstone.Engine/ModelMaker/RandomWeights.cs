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
            weights.Add(new(name, (normal(0, 0.02, shape, generator: generator)).to(dtype)));
        void Ones(string name, long size) => weights.Add(new(name, ones(size, dtype)));

        long hidden = config.HiddenSize, inter = config.IntermediateSize, d = config.HeadDim;
        long q = config.NumAttentionHeads * d, kv = config.NumKeyValueHeads * d;
        Normal("model.embed_tokens.weight", config.VocabSize, hidden);
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string p = $"model.layers.{i}";
            Ones($"{p}.input_layernorm.weight", hidden);
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
            Ones($"{p}.post_attention_layernorm.weight", hidden);
            Normal($"{p}.mlp.gate_proj.weight", inter, hidden);
            Normal($"{p}.mlp.up_proj.weight", inter, hidden);
            Normal($"{p}.mlp.down_proj.weight", hidden, inter);
        }
        Ones("model.norm.weight", hidden);
        if (!config.TieWordEmbeddings) Normal("lm_head.weight", config.VocabSize, hidden);
        if (config.Vision is { } v)
        {
            // Qwen2.5-VL's "visual.*" tensors, shapes as in its checkpoints.
            long w = v.HiddenSize, vi = v.IntermediateSize, group = w * v.SpatialMergeSize * v.SpatialMergeSize;
            Normal("visual.patch_embed.proj.weight", w, v.InChannels, v.TemporalPatchSize, v.PatchSize, v.PatchSize);
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
    }
}
