namespace Whetstone.Protocol;

/// <summary>GET get_server_capabilities (Tinker's name): the base models this server trains and
/// samples, each with what it supports.</summary>
public sealed record ServerCapabilities(IReadOnlyList<SupportedModel> SupportedModels);

/// <summary>One base model: its name as requests give it, its family (llama, qwen2, qwen3), the
/// context length in tokens, and whether it takes LoRA runs, image inputs and full fine-tuning.</summary>
public sealed record SupportedModel(string ModelName, string Family, int ContextLength, bool SupportsLora, bool SupportsImages, bool SupportsFullFineTuning);

/// <summary>The routes of the server-description surface (kept apart from <see cref="Routes"/>).</summary>
public static class ServerInfoRoutes
{
    public const string Capabilities = Routes.Prefix + "/get_server_capabilities";
    /// <summary>One of the model's <see cref="TokenizerFiles"/>.</summary>
    public static string TokenizerFile(string model, string file) => $"{Routes.Prefix}/models/{Uri.EscapeDataString(model)}/{file}";
    public const string TokenizerFileTemplate = Routes.Prefix + "/models/{model}/{file}";
    /// <summary>generation_config.json (extra end-of-sequence ids) is optional: a model may have none.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "generation_config.json"];
    public const string OptionalTokenizerFile = "generation_config.json";
}
