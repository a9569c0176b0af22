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
}

public static class ModelFamilyNames
{
    public static string Architecture(this ModelFamily family) => family switch
    {
        ModelFamily.Llama => "LlamaForCausalLM",
        ModelFamily.Qwen2 => "Qwen2ForCausalLM",
        ModelFamily.Qwen3 => "Qwen3ForCausalLM",
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    public static string ModelType(this ModelFamily family) => family switch
    {
        ModelFamily.Llama => "llama",
        ModelFamily.Qwen2 => "qwen2",
        ModelFamily.Qwen3 => "qwen3",
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    public static ModelFamily Parse(string name) => name.ToLowerInvariant() switch
    {
        "llama" or "llamaforcausallm" => ModelFamily.Llama,
        "qwen2" or "qwen2forcausallm" => ModelFamily.Qwen2,
        "qwen3" or "qwen3forcausallm" => ModelFamily.Qwen3,
        _ => throw new ArgumentException($"unknown model family '{name}' (expected llama, qwen2 or qwen3)"),
    };
}
