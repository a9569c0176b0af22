using System.Text.Json.Nodes;

namespace Whetstone.Engine.Models.Vision;

/// <summary>The frozen pretrained encoders a vision config can name in place of the ViT
/// (<c>vision_config.whet_frozen_encoder</c>). The encoder's own weights are not in the checkpoint
/// (they come from a package), so the config fixes its shape: for ResNet18 a 224 × 224 RGB tile
/// (values 0–255, the package's preprocessing graph normalises them) becomes 512 pooled features,
/// which the projector maps to one LM token. A larger picture is cut into 224-pixel tiles, one
/// token each, in the same grid order as the ViT's merged patches.</summary>
public static class FrozenEncoders
{
    /// <summary>ImageNet ResNet18 as the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18
    /// ships it: its ONNX preprocessing graph, then the network up to global pooling.</summary>
    public const string ResNet18 = "resnet18-imagenet";
    public const int ResNet18Side = 224, ResNet18Features = 512;

    /// <summary>The ViT-shaped numbers that make every path (preprocessing, token counts, M-RoPE,
    /// the merger) handle a tile as one patch and one token: patch = tile, no temporal repeat, no
    /// merging, "hidden size" = the encoder's feature width.</summary>
    public static VisionConfig ResNet18Config(int outHiddenSize, int imageTokenId, int visionStartTokenId, int visionEndTokenId) => new()
    {
        FrozenEncoder = ResNet18, Depth = 0, HiddenSize = ResNet18Features, IntermediateSize = ResNet18Features, NumHeads = 1,
        OutHiddenSize = outHiddenSize, InChannels = 3, PatchSize = ResNet18Side, SpatialMergeSize = 1, TemporalPatchSize = 1,
        WindowSize = ResNet18Side, ImageTokenId = imageTokenId, VisionStartTokenId = visionStartTokenId, VisionEndTokenId = visionEndTokenId,
    };

    internal static VisionConfig Parse(JsonObject root, JsonObject vision, string name)
    {
        if (name != ResNet18)
            throw new ModelConfigException("vision_config.whet_frozen_encoder", $"= '{name}' is not a known frozen encoder (only '{ResNet18}')");
        int Required(JsonObject o, string key, string at)
        {
            var node = o[key] ?? throw new ModelConfigException(at + key, "is missing");
            int v = node.GetValue<int>();
            return v > 0 ? v : throw new ModelConfigException(at + key, $"= {v} must be positive");
        }
        return ResNet18Config(Required(vision, "out_hidden_size", "vision_config."), Required(root, "image_token_id", ""),
            Required(root, "vision_start_token_id", ""), Required(root, "vision_end_token_id", ""));
    }

    internal static JsonObject ToJson(VisionConfig config) => new()
    {
        ["whet_frozen_encoder"] = config.FrozenEncoder, ["hidden_size"] = config.HiddenSize, ["out_hidden_size"] = config.OutHiddenSize,
        ["patch_size"] = config.PatchSize, ["spatial_merge_size"] = 1, ["temporal_patch_size"] = 1, ["model_type"] = "qwen2_5_vl",
    };
}
