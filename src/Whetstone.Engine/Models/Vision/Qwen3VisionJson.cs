using System.Text.Json.Nodes;

namespace Whetstone.Engine.Models.Vision;

/// <summary>Qwen3-VL's config.json (Qwen3VLConfig): the LM's keys sit in a nested "text_config"
/// (a Qwen3 LM with q/k norms and rope_scaling.mrope_section + mrope_interleaved), the tower's in
/// "vision_config", the image token ids at the top. The loader reads the LM from a flattened copy
/// so that the Qwen3 code paths read it unchanged, and writes the nested form back.</summary>
public static class Qwen3VisionJson
{
    public const string Architecture = "Qwen3VLForConditionalGeneration", ModelType = "qwen3_vl";
    static readonly string[] TopLevelKeys = ["vision_config", "image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id"];

    public static bool IsQwen3Vl(JsonObject json) =>
        (json["architectures"] as JsonArray)?.FirstOrDefault()?.GetValue<string>() == Architecture
        || json["model_type"]?.GetValue<string>() == ModelType;

    /// <summary>text_config's keys at the top, with the tower and the image token ids beside them;
    /// top-level keys a Qwen3-VL file may carry outside text_config (tie_word_embeddings, dtype) fill gaps.</summary>
    public static JsonObject Flatten(JsonObject json)
    {
        if (json["text_config"] is not JsonObject text) throw new ModelConfigException("text_config", "is missing (Qwen3-VL keeps the LM's keys there)");
        var flat = (JsonObject)text.DeepClone();
        foreach (var key in TopLevelKeys.Concat(["tie_word_embeddings", "torch_dtype", "dtype"]))
            if (json[key] is { } value && (TopLevelKeys.Contains(key) || flat[key] is null)) flat[key] = value.DeepClone();
        flat["architectures"] = new JsonArray(Architecture);
        flat["model_type"] = ModelType;
        return flat;
    }

    /// <summary>The inverse of <see cref="Flatten"/>: the LM's keys into text_config.</summary>
    public static JsonObject Nest(JsonObject flat)
    {
        var text = (JsonObject)flat.DeepClone();
        var top = new JsonObject { ["architectures"] = new JsonArray(Architecture), ["model_type"] = ModelType };
        foreach (var key in TopLevelKeys) if (text[key] is { } value) { text.Remove(key); top[key] = value; }
        text.Remove("architectures");
        text["model_type"] = "qwen3_vl_text";
        top["tie_word_embeddings"] = text["tie_word_embeddings"]?.DeepClone();
        top["text_config"] = text;
        return top;
    }

    internal static VisionConfig Parse(JsonObject root, JsonObject json)
    {
        int Required(JsonObject o, string key, string at)
        {
            var node = o[key] ?? throw new ModelConfigException(at + key, "is missing");
            int v = node.GetValue<int>();
            return v > 0 ? v : throw new ModelConfigException(at + key, $"= {v} must be positive");
        }
        int Optional(string key, int fallback) => json[key]?.GetValue<int>() ?? fallback;
        if (json["hidden_act"]?.GetValue<string>() is { } act && act != "gelu_pytorch_tanh")
            throw new ModelConfigException("vision_config.hidden_act", $"= '{act}' is not supported (only 'gelu_pytorch_tanh', Qwen3-VL's MLP)");
        var config = new VisionConfig
        {
            Architecture = VisionArchitecture.Qwen3Vl,
            Depth = Required(json, "depth", "vision_config."),
            HiddenSize = Required(json, "hidden_size", "vision_config."),
            IntermediateSize = Required(json, "intermediate_size", "vision_config."),
            NumHeads = Required(json, "num_heads", "vision_config."),
            OutHiddenSize = Required(json, "out_hidden_size", "vision_config."),
            NumPositionEmbeddings = Required(json, "num_position_embeddings", "vision_config."),
            DeepstackVisualIndexes = (json["deepstack_visual_indexes"] as JsonArray)?.Select(n => n!.GetValue<int>()).ToArray() ?? [],
            InChannels = Optional("in_channels", 3),
            PatchSize = Optional("patch_size", 16),
            SpatialMergeSize = Optional("spatial_merge_size", 2),
            TemporalPatchSize = Optional("temporal_patch_size", 2),
            ImageTokenId = Required(root, "image_token_id", ""),
            VisionStartTokenId = Required(root, "vision_start_token_id", ""),
            VisionEndTokenId = Required(root, "vision_end_token_id", ""),
        };
        if (config.HiddenSize % config.NumHeads != 0 || config.HeadDim % 4 != 0)
            throw new ModelConfigException("vision_config.num_heads", $"= {config.NumHeads} must divide hidden_size {config.HiddenSize} into heads whose size is a multiple of 4 (2-D rotary)");
        int side = (int)Math.Round(Math.Sqrt(config.NumPositionEmbeddings));
        if (side * side != config.NumPositionEmbeddings)
            throw new ModelConfigException("vision_config.num_position_embeddings", $"= {config.NumPositionEmbeddings} must be a square (a side × side table)");
        if (config.DeepstackVisualIndexes.FirstOrDefault(i => i < 0 || i >= config.Depth, -1) is var bad and >= 0)
            throw new ModelConfigException("vision_config.deepstack_visual_indexes", $"holds {bad}, not a block index below depth {config.Depth}");
        return config;
    }

    internal static JsonObject ToJson(VisionConfig c) => new()
    {
        ["model_type"] = "qwen3_vl", ["depth"] = c.Depth, ["hidden_size"] = c.HiddenSize, ["hidden_act"] = "gelu_pytorch_tanh",
        ["intermediate_size"] = c.IntermediateSize, ["num_heads"] = c.NumHeads, ["in_channels"] = c.InChannels,
        ["patch_size"] = c.PatchSize, ["spatial_merge_size"] = c.SpatialMergeSize, ["temporal_patch_size"] = c.TemporalPatchSize,
        ["out_hidden_size"] = c.OutHiddenSize, ["num_position_embeddings"] = c.NumPositionEmbeddings,
        ["deepstack_visual_indexes"] = new JsonArray(c.DeepstackVisualIndexes.Select(i => (JsonNode)i).ToArray()),
        ["initializer_range"] = 0.02,
    };
}
