namespace Whetstone.Engine.Formats.Gguf;

/// <summary>Hugging Face tensor names and their llama.cpp names (gguf-py's tensor_mapping for
/// the llama, qwen2 and qwen3 architectures), in both directions.</summary>
public static class GgufTensorNames
{
    const string LayerPrefix = "model.layers.";

    static readonly (string HuggingFace, string Gguf)[] Global =
    [
        ("model.embed_tokens.weight", "token_embd.weight"),
        ("model.norm.weight", "output_norm.weight"),
        ("lm_head.weight", "output.weight"),
    ];

    static readonly (string HuggingFace, string Gguf)[] PerLayer =
    [
        ("input_layernorm.weight", "attn_norm.weight"),
        ("self_attn.q_proj.weight", "attn_q.weight"),
        ("self_attn.q_proj.bias", "attn_q.bias"),
        ("self_attn.k_proj.weight", "attn_k.weight"),
        ("self_attn.k_proj.bias", "attn_k.bias"),
        ("self_attn.v_proj.weight", "attn_v.weight"),
        ("self_attn.v_proj.bias", "attn_v.bias"),
        ("self_attn.o_proj.weight", "attn_output.weight"),
        ("self_attn.q_norm.weight", "attn_q_norm.weight"),
        ("self_attn.k_norm.weight", "attn_k_norm.weight"),
        ("post_attention_layernorm.weight", "ffn_norm.weight"),
        ("mlp.gate_proj.weight", "ffn_gate.weight"),
        ("mlp.up_proj.weight", "ffn_up.weight"),
        ("mlp.down_proj.weight", "ffn_down.weight"),
    ];

    /// <summary>The GGUF name, or null for tensors llama.cpp has no use for (e.g. rotary inv_freq buffers).</summary>
    public static string? ToGguf(string huggingFaceName)
    {
        foreach (var (hf, gguf) in Global) if (hf == huggingFaceName) return gguf;
        if (!huggingFaceName.StartsWith(LayerPrefix, StringComparison.Ordinal)) return null;
        var rest = huggingFaceName.AsSpan(LayerPrefix.Length);
        int dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], out int layer)) return null;
        var suffix = rest[(dot + 1)..].ToString();
        foreach (var (hf, gguf) in PerLayer) if (hf == suffix) return $"blk.{layer}.{gguf}";
        return null;
    }

    /// <summary>The Hugging Face name, or null for GGUF tensors that have none (rope_freqs).</summary>
    public static string? ToHuggingFace(string ggufName)
    {
        foreach (var (hf, gguf) in Global) if (gguf == ggufName) return hf;
        if (!ggufName.StartsWith("blk.", StringComparison.Ordinal)) return null;
        var rest = ggufName.AsSpan(4);
        int dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], out int layer)) return null;
        var suffix = rest[(dot + 1)..].ToString();
        foreach (var (hf, gguf) in PerLayer) if (gguf == suffix) return $"{LayerPrefix}{layer}.{hf}";
        return null;
    }
}
