using System.Text.Json.Nodes;

namespace Whetstone.Engine.Models.Vision;

/// <summary>The vision tower of a Qwen2.5-VL checkpoint: config.json's "vision_config" plus the
/// top-level image token ids. Field names follow the file. Plain numbers only, so the Service can
/// read them to preprocess images (the patch grid) without touching a tensor.</summary>
public sealed record VisionConfig
{
    public required int Depth { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHeads { get; init; }
    /// <summary>The LM's hidden size: what the merger projects into.</summary>
    public required int OutHiddenSize { get; init; }
    public int InChannels { get; init; } = 3;
    public int PatchSize { get; init; } = 14;
    public int SpatialMergeSize { get; init; } = 2;
    public int TemporalPatchSize { get; init; } = 2;
    /// <summary>Side of the attention windows in pixels; blocks not in FullAttBlockIndexes attend
    /// only within their window.</summary>
    public int WindowSize { get; init; } = 112;
    public IReadOnlyList<int> FullAttBlockIndexes { get; init; } = [];
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary>A frozen pretrained encoder serving as the tower in place of the ViT (a Whetstone
    /// key, <c>vision_config.whet_frozen_encoder</c>; Hugging Face cannot load such a checkpoint):
    /// <see cref="FrozenEncoders.ResNet18"/> runs ImageNet ResNet18 on ONNX Runtime, one 224-pixel
    /// tile per LM token, and only the projector (visual.merger.*) is stored. Null: the ViT.</summary>
    public string? FrozenEncoder { get; init; }
    /// <summary>Which checkpoint layout the tower follows: Qwen2.5-VL's "visual.*" (RMSNorm, gated
    /// MLP, windows) or Qwen3-VL's "model.visual.*" (<see cref="Qwen3VisionJson"/>).</summary>
    public VisionArchitecture Architecture { get; init; } = VisionArchitecture.Qwen2_5Vl;
    /// <summary>Qwen3-VL: rows of the learned position table pos_embed (a square grid, bilinearly
    /// interpolated to each image's patch grid).</summary>
    public int NumPositionEmbeddings { get; init; }
    /// <summary>Qwen3-VL: the blocks whose outputs go through deepstack_merger_list.K into the
    /// first K decoder layers' hidden states.</summary>
    public IReadOnlyList<int> DeepstackVisualIndexes { get; init; } = [];
    public required int ImageTokenId { get; init; }
    public required int VisionStartTokenId { get; init; }
    public required int VisionEndTokenId { get; init; }

    public int HeadDim => HiddenSize / NumHeads;
    /// <summary>The image processor's per-channel normalisation: CLIP's for Qwen2.5-VL, 0.5 / 0.5
    /// for Qwen3-VL (its preprocessor_config.json).</summary>
    public IReadOnlyList<float> ImageMean => Architecture == VisionArchitecture.Qwen3Vl ? [0.5f, 0.5f, 0.5f] : [0.48145466f, 0.4578275f, 0.40821073f];
    public IReadOnlyList<float> ImageStd => Architecture == VisionArchitecture.Qwen3Vl ? [0.5f, 0.5f, 0.5f] : [0.26862954f, 0.26130258f, 0.27577711f];
    /// <summary>Pixels per side of one LM token (a merged 2×2 group of patches): 28 for Qwen2.5-VL.</summary>
    public int PixelsPerToken => PatchSize * SpatialMergeSize;
    /// <summary>Values in one flattened patch: channels × temporal × patch × patch.</summary>
    public int PatchValues => InChannels * TemporalPatchSize * PatchSize * PatchSize;

    public static VisionConfig Parse(JsonObject root)
    {
        var json = root["vision_config"] as JsonObject ?? throw new ModelConfigException("vision_config", "is missing");
        if (Qwen3VisionJson.IsQwen3Vl(root)) return Qwen3VisionJson.Parse(root, json);
        if (json["whet_frozen_encoder"] is { } frozen) return FrozenEncoders.Parse(root, json, frozen.GetValue<string>());
        int Required(JsonObject o, string key, string at)
        {
            var node = o[key] ?? throw new ModelConfigException(at + key, "is missing");
            int v = node.GetValue<int>();
            return v > 0 ? v : throw new ModelConfigException(at + key, $"= {v} must be positive");
        }
        int Optional(string key, int fallback) => json[key]?.GetValue<int>() ?? fallback;
        if (json["hidden_act"]?.GetValue<string>() is { } act && act != "silu")
            throw new ModelConfigException("vision_config.hidden_act", $"= '{act}' is not supported (only 'silu', Qwen2.5-VL's gated MLP)");
        var config = new VisionConfig
        {
            Depth = Required(json, "depth", "vision_config."),
            HiddenSize = Required(json, "hidden_size", "vision_config."),
            IntermediateSize = Required(json, "intermediate_size", "vision_config."),
            NumHeads = Required(json, "num_heads", "vision_config."),
            OutHiddenSize = Required(json, "out_hidden_size", "vision_config."),
            InChannels = Optional("in_chans", Optional("in_channels", 3)),
            PatchSize = Optional("patch_size", 14),
            SpatialMergeSize = Optional("spatial_merge_size", 2),
            TemporalPatchSize = Optional("temporal_patch_size", 2),
            WindowSize = Optional("window_size", 112),
            FullAttBlockIndexes = (json["fullatt_block_indexes"] as JsonArray)?.Select(n => n!.GetValue<int>()).ToArray() ?? [],
            ImageTokenId = Required(root, "image_token_id", ""),
            VisionStartTokenId = Required(root, "vision_start_token_id", ""),
            VisionEndTokenId = Required(root, "vision_end_token_id", ""),
        };
        if (config.HiddenSize % config.NumHeads != 0 || config.HeadDim % 4 != 0)
            throw new ModelConfigException("vision_config.num_heads", $"= {config.NumHeads} must divide hidden_size {config.HiddenSize} into heads whose size is a multiple of 4 (2-D rotary)");
        if (config.WindowSize % config.PixelsPerToken != 0)
            throw new ModelConfigException("vision_config.window_size", $"= {config.WindowSize} must be a multiple of patch_size × spatial_merge_size = {config.PixelsPerToken}");
        return config;
    }

    /// <summary>"vision_config" as a Hugging Face loader reads it (the token ids are top-level keys).</summary>
    public JsonObject ToJson() => Architecture == VisionArchitecture.Qwen3Vl ? Qwen3VisionJson.ToJson(this)
        : FrozenEncoder is not null ? FrozenEncoders.ToJson(this) : new()
    {
        ["depth"] = Depth, ["hidden_size"] = HiddenSize, ["hidden_act"] = "silu", ["intermediate_size"] = IntermediateSize,
        ["num_heads"] = NumHeads, ["in_chans"] = InChannels, ["out_hidden_size"] = OutHiddenSize, ["patch_size"] = PatchSize,
        ["spatial_merge_size"] = SpatialMergeSize, ["temporal_patch_size"] = TemporalPatchSize, ["window_size"] = WindowSize,
        ["fullatt_block_indexes"] = new JsonArray(FullAttBlockIndexes.Select(i => (JsonNode)i).ToArray()),
        ["tokens_per_second"] = 2, ["model_type"] = "qwen2_5_vl",
    };
}

public enum VisionArchitecture { Qwen2_5Vl, Qwen3Vl }
