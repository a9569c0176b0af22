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
        return weights;
    }
}
