using System.Text.Json;
using System.Text.Json.Nodes;

namespace Whetstone.Engine.Formats;

/// <summary>adapter_config.json of a PEFT LoRA adapter. We write the fields PEFT's LoraConfig
/// needs to rebuild the adapter; on reading, every PEFT option that changes the math and that
/// we do not implement is refused by name rather than silently ignored: an
/// <see cref="InvalidDataException"/> whose message starts "adapter_config.json: '&lt;field&gt;'".</summary>
internal sealed record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";

    public required int Rank { get; init; }
    public required double Alpha { get; init; }
    public bool UseRsLora { get; init; }
    /// <summary>Short module names ("q_proj", "lm_head"): PEFT matches them against the end of
    /// each module path.</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = [];
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>Options whose non-default values change what the adapter computes, with why we
    /// cannot honour them. Absent, null, false and empty all count as the default.</summary>
    static readonly (string Field, string Why)[] Unsupported =
    [
        ("use_dora", "DoRA rescales each output by a learned magnitude; only plain LoRA is supported"),
        ("fan_in_fan_out", "the factors are stored for transposed (Conv1D) weights; these models use nn.Linear"),
        ("rank_pattern", "per-module ranks are not supported: one r for every module"),
        ("alpha_pattern", "per-module alphas are not supported: one lora_alpha for every module"),
        ("modules_to_save", "fully trained copies of modules are not part of a LoRA adapter here"),
        ("lora_bias", "a trained bias on lora_B is not supported"),
        ("layer_replication", "replicated layers change the model's structure"),
        ("trainable_token_indices", "trained embedding rows are not supported"),
        ("target_parameters", "LoRA on raw parameters (MoE experts) is not supported"),
    ];

    public JsonObject ToJson() => new()
    {
        ["peft_type"] = "LORA",
        ["task_type"] = "CAUSAL_LM",
        ["base_model_name_or_path"] = BaseModelNameOrPath,
        ["r"] = Rank,
        ["lora_alpha"] = Alpha,
        ["lora_dropout"] = 0.0,
        ["target_modules"] = new JsonArray(TargetModules.Select(m => (JsonNode)m).ToArray()),
        ["bias"] = "none",
        ["fan_in_fan_out"] = false,
        ["use_rslora"] = UseRsLora,
        ["use_dora"] = false,
        ["rank_pattern"] = new JsonObject(),
        ["alpha_pattern"] = new JsonObject(),
        ["modules_to_save"] = null,
        ["inference_mode"] = true,
    };

    public static PeftAdapterConfig Parse(JsonObject json)
    {
        string? peftType = String(json, "peft_type");
        if (peftType != "LORA") throw Refuse("peft_type", $"= {Show(json["peft_type"])} is not supported (only LORA)");
        string? taskType = String(json, "task_type");
        if (taskType is not (null or "CAUSAL_LM")) throw Refuse("task_type", $"= '{taskType}' is not supported (only CAUSAL_LM)");
        string? bias = String(json, "bias");
        if (bias is not (null or "none")) throw Refuse("bias", $"= '{bias}' is not supported: trained base-model biases are not part of a LoRA adapter here (only 'none')");
        foreach (var (field, why) in Unsupported)
            if (!IsDefault(json[field])) throw Refuse(field, $"= {Show(json[field])} is not supported: {why}");

        int rank = Number(json, "r") is double r && r == Math.Floor(r) && r >= 1 && r <= int.MaxValue ? (int)r
            : throw Refuse("r", $"= {Show(json["r"])} must be a positive integer");
        double alpha = Number(json, "lora_alpha") is double a && a > 0 ? a
            : throw Refuse("lora_alpha", $"= {Show(json["lora_alpha"])} must be a positive number");
        bool useRsLora = json["use_rslora"] switch
        {
            null => false,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            var other => throw Refuse("use_rslora", $"= {Show(other)} must be true or false"),
        };
        return new PeftAdapterConfig
        {
            Rank = rank,
            Alpha = alpha,
            UseRsLora = useRsLora,
            TargetModules = json["target_modules"] is JsonArray modules ? modules.Select(m => m?.ToString() ?? "").ToArray() : [],
            BaseModelNameOrPath = String(json, "base_model_name_or_path"),
        };
    }

    static bool IsDefault(JsonNode? node) => node switch
    {
        null => true,
        JsonValue v when v.TryGetValue<bool>(out var b) => !b,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length == 0,
        JsonObject o => o.Count == 0,
        JsonArray a => a.Count == 0,
        _ => false,
    };

    static string? String(JsonObject json, string field) => json[field] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw Refuse(field, $"= {Show(other)} is not a string"),
    };

    static double? Number(JsonObject json, string field) => json[field] is not JsonValue v ? null
        : v.TryGetValue<double>(out var d) ? d
        : v.TryGetValue<long>(out var l) ? l
        : v.TryGetValue<int>(out var i) ? i
        : v.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble()
        : null;

    static string Show(JsonNode? node) => node?.ToJsonString() ?? "null";

    /// <summary>InvalidDataException is sealed, so the field is named in the message, the way
    /// ModelConfigException names config.json's.</summary>
    static InvalidDataException Refuse(string field, string reason) => new($"{FileName}: '{field}' {reason}");
}
