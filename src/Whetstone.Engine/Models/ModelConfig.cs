using System.Text.Json;
using System.Text.Json.Nodes;

namespace Whetstone.Engine.Models;

/// <summary>The shape of a decoder-only transformer, read from a Hugging Face config.json.
/// Field names follow the file so that a reader can match them one to one.</summary>
public sealed record ModelConfig
{
    public required ModelFamily Family { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    /// <summary>Read from the file when present (Qwen3 sets it independently of hidden/heads).</summary>
    public required int HeadDim { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public RopeScaling RopeScaling { get; init; } = RopeScaling.None;
    public required bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (Qwen2 always; Llama when attention_bias is set).</summary>
    public required bool AttentionBias { get; init; }
    /// <summary>Per-head RMSNorm on queries and keys before RoPE (Qwen3).</summary>
    public bool QkNorm => Family is ModelFamily.Qwen3 or ModelFamily.Qwen3Moe;
    /// <summary>Multi-head latent attention (DeepSeek-V3 family); null = grouped-query attention.
    /// With MLA, <see cref="HeadDim"/> is qk_rope_head_dim: the width RoPE rotates.</summary>
    public MlaShape? Mla { get; init; }
    /// <summary>Routed experts; null = every layer is a dense SwiGLU of <see cref="IntermediateSize"/>.</summary>
    public MoeShape? Moe { get; init; }
    /// <summary>config.json's model_type when it differs from the family's own (kimi_k2).</summary>
    public string? ModelTypeName { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>The dtype the weights were stored in according to the config ("float32", "bfloat16", …).</summary>
    public string TorchDtype { get; init; } = "float32";
    /// <summary>The vision tower of a Qwen2.5-VL checkpoint (its LM is Qwen2's); null for text-only models.</summary>
    public Vision.VisionConfig? Vision { get; init; }
    /// <summary>M-RoPE: how many rotary frequency pairs follow the temporal, height and width
    /// position (rope_scaling.mrope_section, e.g. [16, 24, 24]); null = 1-D positions.</summary>
    public IReadOnlyList<int>? MropeSection { get; init; }
    /// <summary>Qwen3-VL's rope_scaling.mrope_interleaved: frequency pair i follows the height axis
    /// when i % 3 == 1, the width axis when i % 3 == 2 (within their sections), else the temporal.</summary>
    public bool MropeInterleaved { get; init; }

    public int GroupSize => NumAttentionHeads / NumKeyValueHeads;

    public static ModelConfig Load(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"no config.json in '{modelDirectory}'", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new ModelConfigException("(file)", $"is not valid JSON: {e.Message}"); }
        if (root is not JsonObject obj) throw new ModelConfigException("(file)", "is not a JSON object");
        return Parse(obj);
    }

    public static ModelConfig Parse(JsonObject json)
    {
        if (Models.Vision.Qwen3VisionJson.IsQwen3Vl(json)) json = Models.Vision.Qwen3VisionJson.Flatten(json);
        var family = ReadFamily(json);
        int hidden = RequiredInt(json, "hidden_size");
        int heads = RequiredInt(json, "num_attention_heads");
        int kvHeads = OptionalInt(json, "num_key_value_heads") ?? heads;
        if (kvHeads <= 0 || heads % kvHeads != 0)
            throw new ModelConfigException("num_key_value_heads", $"= {kvHeads} must divide num_attention_heads = {heads}");
        var mla = family == ModelFamily.DeepseekV3 ? MlaShape.Parse(json) : null;
        int headDim = mla?.QkRopeHeadDim ?? OptionalInt(json, "head_dim") ?? (hidden % heads == 0 ? hidden / heads
            : throw new ModelConfigException("head_dim", $"is missing and hidden_size {hidden} is not divisible by num_attention_heads {heads}"));
        if (headDim % 2 != 0) throw new ModelConfigException("head_dim", $"= {headDim} must be even for rotary embeddings");

        if (json["hidden_act"] is JsonNode act && act.GetValue<string>() is var actName && actName != "silu")
            throw new ModelConfigException("hidden_act", $"= '{actName}' is not supported (only 'silu', SwiGLU)");
        if (json["mlp_bias"] is JsonNode mlpBias && mlpBias.GetValue<bool>())
            throw new ModelConfigException("mlp_bias", "= true is not supported");
        if (family == ModelFamily.Qwen2 && json["use_sliding_window"] is JsonNode sw && sw.GetValue<bool>())
            throw new ModelConfigException("use_sliding_window", "= true is not supported");

        var (theta, scaling) = ReadRope(json);
        bool vision = IsVisionLanguage(json);
        var mrope = ((json["rope_parameters"] ?? json["rope_scaling"]) as JsonObject)?["mrope_section"] as JsonArray;
        int[]? mropeSection = mrope?.Select(n => n!.GetValue<int>()).ToArray();
        if (mropeSection is not null && (mropeSection.Length != 3 || mropeSection.Sum() * 2 != headDim))
            throw new ModelConfigException("rope_scaling.mrope_section", $"= [{string.Join(", ", mropeSection)}] must be three sections summing to head_dim / 2 = {headDim / 2}");
        bool attentionBias = family == ModelFamily.Qwen2 || (json["attention_bias"]?.GetValue<bool>() ?? false);
        if (attentionBias && family is ModelFamily.DeepseekV3 or ModelFamily.Qwen3Moe)
            throw new ModelConfigException("attention_bias", $"= true is not supported for {family.Architecture()}");
        string? modelType = json["model_type"]?.GetValue<string>();

        var config = new ModelConfig
        {
            Family = family,
            VocabSize = RequiredInt(json, "vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = RequiredInt(json, "intermediate_size"),
            NumHiddenLayers = RequiredInt(json, "num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim,
            MaxPositionEmbeddings = OptionalInt(json, "max_position_embeddings") ?? 2048,
            RmsNormEps = AsDouble(json["rms_norm_eps"]) ?? 1e-6,
            RopeTheta = theta,
            RopeScaling = scaling,
            TieWordEmbeddings = json["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            AttentionBias = attentionBias,
            BosTokenId = OptionalInt(json, "bos_token_id"),
            EosTokenIds = ReadIds(json["eos_token_id"]),
            TorchDtype = json["torch_dtype"]?.GetValue<string>() ?? json["dtype"]?.GetValue<string>() ?? "float32",
            Mla = mla,
            Moe = family is ModelFamily.DeepseekV3 or ModelFamily.Qwen3Moe ? MoeShape.Parse(json, family) : null,
            ModelTypeName = modelType is not null && modelType != family.ModelType() ? modelType : null,
            Vision = vision ? Models.Vision.VisionConfig.Parse(json) : null,
            MropeSection = mropeSection,
            MropeInterleaved = ((json["rope_parameters"] ?? json["rope_scaling"]) as JsonObject)?["mrope_interleaved"]?.GetValue<bool>() ?? false,
        };
        return config;
    }

    static ModelFamily ReadFamily(JsonObject json)
    {
        var architectures = json["architectures"] as JsonArray;
        string? architecture = architectures?.Count > 0 ? architectures[0]?.GetValue<string>() : null;
        string? modelType = json["model_type"]?.GetValue<string>();
        string name = architecture ?? modelType ?? throw new ModelConfigException("architectures", "is missing (and so is model_type)");
        return name switch
        {
            "LlamaForCausalLM" or "llama" => ModelFamily.Llama,
            "Qwen2ForCausalLM" or "qwen2" => ModelFamily.Qwen2,
            VisionLanguageArchitecture or VisionLanguageModelType => ModelFamily.Qwen2,   // its LM is Qwen2's
            Models.Vision.Qwen3VisionJson.Architecture or Models.Vision.Qwen3VisionJson.ModelType => ModelFamily.Qwen3,
            "Qwen3ForCausalLM" or "qwen3" => ModelFamily.Qwen3,
            // Kimi K2 ships DeepseekV3ForCausalLM weights under model_type kimi_k2.
            "DeepseekV3ForCausalLM" or "deepseek_v3" or "kimi_k2" => ModelFamily.DeepseekV3,
            "Qwen3MoeForCausalLM" or "qwen3_moe" => ModelFamily.Qwen3Moe,
            _ => throw new ModelConfigException(architecture is null ? "model_type" : "architectures",
                $"= '{name}' is not supported (supported: LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, DeepseekV3ForCausalLM, Qwen3MoeForCausalLM)"),
        };
    }

    const string VisionLanguageArchitecture = "Qwen2_5_VLForConditionalGeneration", VisionLanguageModelType = "qwen2_5_vl";

    static bool IsVisionLanguage(JsonObject json) =>
        (json["architectures"] as JsonArray)?.FirstOrDefault()?.GetValue<string>() == VisionLanguageArchitecture
        || json["model_type"]?.GetValue<string>() == VisionLanguageModelType || Models.Vision.Qwen3VisionJson.IsQwen3Vl(json);

    /// <summary>RoPE settings come either as rope_theta + rope_scaling (classic) or inside a
    /// rope_parameters object (transformers ≥ 4.56); both spell the same fields.</summary>
    static (double Theta, RopeScaling Scaling) ReadRope(JsonObject json)
    {
        JsonObject? parameters = json["rope_parameters"] as JsonObject;
        string scalingField = parameters is null ? "rope_scaling" : "rope_parameters";
        JsonObject? scalingJson = parameters ?? json["rope_scaling"] as JsonObject;
        double theta = AsDouble(parameters?["rope_theta"]) ?? AsDouble(json["rope_theta"]) ?? 10000.0;
        if (theta <= 0) throw new ModelConfigException("rope_theta", $"= {theta} must be positive");
        if (scalingJson is null) return (theta, RopeScaling.None);

        string type = scalingJson["rope_type"]?.GetValue<string>() ?? scalingJson["type"]?.GetValue<string>() ?? "default";
        double Number(string key, double fallback) => AsDouble(scalingJson[key]) ?? fallback;
        return type switch
        {
            "default" or "mrope" => (theta, RopeScaling.None),   // mrope: M-RoPE sections, read apart
            "linear" => (theta, new RopeScaling { Type = "linear", Factor = Number("factor", 1.0) }),
            "llama3" => (theta, new RopeScaling
            {
                Type = "llama3",
                Factor = Number("factor", 8.0),
                LowFreqFactor = Number("low_freq_factor", 1.0),
                HighFreqFactor = Number("high_freq_factor", 4.0),
                OriginalMaxPositionEmbeddings = (int)Number("original_max_position_embeddings", 8192),
            }),
            "yarn" => (theta, new RopeScaling
            {
                Type = "yarn",
                Factor = Number("factor", 1.0),
                // Hugging Face's fallback when the key is absent: max_position_embeddings.
                OriginalMaxPositionEmbeddings = (int)Number("original_max_position_embeddings", OptionalInt(json, "max_position_embeddings") ?? 2048),
                BetaFast = Number("beta_fast", 32),
                BetaSlow = Number("beta_slow", 1),
                Mscale = Number("mscale", 1),
                MscaleAllDim = Number("mscale_all_dim", 0),
            }),
            _ => throw new ModelConfigException($"{scalingField}.rope_type",
                $"= '{type}' is not supported (supported: default, linear, llama3, yarn)"),
        };
    }

    /// <summary>A JSON number as double, whether it was written as 10000 or 10000.0.</summary>
    internal static double? AsDouble(JsonNode? node)
    {
        if (node is not JsonValue value) return null;
        if (value.TryGetValue<double>(out var d)) return d;
        if (value.TryGetValue<long>(out var l)) return l;
        if (value.TryGetValue<int>(out var i)) return i;
        if (value.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number) return e.GetDouble();
        return null;
    }

    internal static int RequiredInt(JsonObject json, string key)
    {
        int value = OptionalInt(json, key) ?? throw new ModelConfigException(key, "is missing");
        if (value <= 0) throw new ModelConfigException(key, $"= {value} must be positive");
        return value;
    }

    internal static int? OptionalInt(JsonObject json, string key)
    {
        var node = json[key];
        if (node is null) return null;
        try { return node.GetValue<int>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new ModelConfigException(key, $"= {node.ToJsonString()} is not an integer"); }
    }

    static IReadOnlyList<int> ReadIds(JsonNode? node) => node switch
    {
        null => [],
        JsonArray array => array.Select(n => n!.GetValue<int>()).ToArray(),
        _ => [node.GetValue<int>()],
    };

    /// <summary>The config.json a Hugging Face loader expects for this shape.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(Family.Architecture()),
            ["model_type"] = ModelTypeName ?? Family.ModelType(),
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["hidden_act"] = "silu",
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["torch_dtype"] = TorchDtype,
            ["attention_dropout"] = 0.0,
        };
        if (Family == ModelFamily.Llama) { json["attention_bias"] = AttentionBias; json["mlp_bias"] = false; }
        if (Family == ModelFamily.Qwen2) json["use_sliding_window"] = false;
        if (Family is ModelFamily.Qwen3 or ModelFamily.Qwen3Moe or ModelFamily.DeepseekV3) json["attention_bias"] = false;
        if (Mla is not null) { json.Remove("head_dim"); Mla.WriteTo(json); }
        Moe?.WriteTo(json, Family);
        if (RopeScaling.Type != "default")
        {
            var scaling = new JsonObject { ["rope_type"] = RopeScaling.Type, ["factor"] = RopeScaling.Factor };
            if (RopeScaling.Type == "llama3")
            {
                scaling["low_freq_factor"] = RopeScaling.LowFreqFactor;
                scaling["high_freq_factor"] = RopeScaling.HighFreqFactor;
                scaling["original_max_position_embeddings"] = RopeScaling.OriginalMaxPositionEmbeddings;
            }
            if (RopeScaling.Type == "yarn")
            {
                scaling["original_max_position_embeddings"] = RopeScaling.OriginalMaxPositionEmbeddings;
                scaling["beta_fast"] = RopeScaling.BetaFast;
                scaling["beta_slow"] = RopeScaling.BetaSlow;
                scaling["mscale"] = RopeScaling.Mscale;
                scaling["mscale_all_dim"] = RopeScaling.MscaleAllDim;
            }
            json["rope_scaling"] = scaling;
        }
        if (Vision is { Architecture: Models.Vision.VisionArchitecture.Qwen2_5Vl })
        {
            json["architectures"] = new JsonArray(VisionLanguageArchitecture);
            json["model_type"] = VisionLanguageModelType;
            json["vision_config"] = Vision.ToJson();
            json["image_token_id"] = Vision.ImageTokenId;
            json["vision_start_token_id"] = Vision.VisionStartTokenId;
            json["vision_end_token_id"] = Vision.VisionEndTokenId;
        }
        if (MropeSection is not null)
            json["rope_scaling"] = new JsonObject { ["type"] = "mrope", ["mrope_section"] = new JsonArray(MropeSection.Select(i => (JsonNode)i).ToArray()) };
        if (MropeInterleaved) json["rope_scaling"] = new JsonObject
        {
            ["rope_type"] = "default", ["mrope_section"] = new JsonArray(MropeSection!.Select(i => (JsonNode)i).ToArray()), ["mrope_interleaved"] = true,
        };
        if (BosTokenId is int bos) json["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) json["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) json["eos_token_id"] = new JsonArray(EosTokenIds.Select(i => (JsonNode)i).ToArray());
        if (Vision is { Architecture: Models.Vision.VisionArchitecture.Qwen3Vl } v3)
        {
            json["vision_config"] = v3.ToJson();
            json["image_token_id"] = v3.ImageTokenId;
            json["vision_start_token_id"] = v3.VisionStartTokenId;
            json["vision_end_token_id"] = v3.VisionEndTokenId;
            return Models.Vision.Qwen3VisionJson.Nest(json);
        }
        return json;
    }

    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
