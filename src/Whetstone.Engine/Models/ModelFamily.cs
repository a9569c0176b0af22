namespace Whetstone.Engine.Models;

/// <summary>The decoder-only families we load. They share one network (see
/// <see cref="CausalLanguageModel"/>); the family decides which optional parts exist.</summary>
public enum ModelFamily
{
    /// <summary><c>LlamaForCausalLM</c>: no projection biases, optional llama3 RoPE scaling.</summary>
    Llama,
    /// <summary><c>Qwen2ForCausalLM</c>: biases on q/k/v projections.</summary>
    Qwen2,
    /// <summary><c>Qwen3ForCausalLM</c>: RMSNorm on each query and key head; explicit head_dim.</summary>
    Qwen3,
    /// <summary><c>DeepseekV3ForCausalLM</c> (model_type deepseek_v3, and kimi_k2 for Kimi K2):
    /// multi-head latent attention (<see cref="MlaShape"/>) and fine-grained experts with a
    /// shared expert and a sigmoid, group-limited router (<see cref="MoeShape"/>).</summary>
    DeepseekV3,
    /// <summary><c>Qwen3MoeForCausalLM</c>: Qwen3 attention with softmax-routed experts.</summary>
    Qwen3Moe,
}

public static class ModelFamilyNames
{
    public static string Architecture(this ModelFamily family) => family switch
    {
        ModelFamily.Llama => "LlamaForCausalLM",
        ModelFamily.Qwen2 => "Qwen2ForCausalLM",
        ModelFamily.Qwen3 => "Qwen3ForCausalLM",
        ModelFamily.DeepseekV3 => "DeepseekV3ForCausalLM",
        ModelFamily.Qwen3Moe => "Qwen3MoeForCausalLM",
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    public static string ModelType(this ModelFamily family) => family switch
    {
        ModelFamily.Llama => "llama",
        ModelFamily.Qwen2 => "qwen2",
        ModelFamily.Qwen3 => "qwen3",
        ModelFamily.DeepseekV3 => "deepseek_v3",
        ModelFamily.Qwen3Moe => "qwen3_moe",
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    public static ModelFamily Parse(string name) => name.ToLowerInvariant() switch
    {
        "llama" or "llamaforcausallm" => ModelFamily.Llama,
        "qwen2" or "qwen2forcausallm" => ModelFamily.Qwen2,
        "qwen3" or "qwen3forcausallm" => ModelFamily.Qwen3,
        "deepseek_v3" or "kimi_k2" or "deepseekv3forcausallm" => ModelFamily.DeepseekV3,
        "qwen3_moe" or "qwen3moeforcausallm" => ModelFamily.Qwen3Moe,
        _ => throw new ArgumentException($"unknown model family '{name}' (expected llama, qwen2, qwen3, deepseek_v3, kimi_k2 or qwen3_moe)"),
    };
}
