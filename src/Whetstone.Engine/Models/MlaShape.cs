using System.Text.Json.Nodes;

namespace Whetstone.Engine.Models;

/// <summary>Multi-head latent attention's dimensions (DeepSeek-V2/V3, Kimi K2), named as in
/// config.json. Queries go through an optional low-rank bottleneck (q_lora_rank; null = one
/// q_proj); keys and values are rebuilt per head from one shared latent of kv_lora_rank numbers
/// per token, and only qk_rope_head_dim of each query/key head carries rotary position — that
/// part of the key is shared by all heads. The cache stores the latent and the shared rope key.</summary>
public sealed record MlaShape
{
    /// <summary>Null: queries come from a plain q_proj [H·(nope+rope), hidden].</summary>
    public int? QLoraRank { get; init; }
    public required int KvLoraRank { get; init; }
    public required int QkNopeHeadDim { get; init; }
    public required int QkRopeHeadDim { get; init; }
    public required int VHeadDim { get; init; }

    public int QkHeadDim => QkNopeHeadDim + QkRopeHeadDim;

    /// <summary>Numbers cached per token per layer: the latent and the shared rope key.</summary>
    public int CachedWidth => KvLoraRank + QkRopeHeadDim;

    internal static MlaShape Parse(JsonObject json)
    {
        int? qRank = json["q_lora_rank"] is null ? null : ModelConfig.RequiredInt(json, "q_lora_rank");
        var shape = new MlaShape
        {
            QLoraRank = qRank,
            KvLoraRank = ModelConfig.RequiredInt(json, "kv_lora_rank"),
            QkNopeHeadDim = ModelConfig.RequiredInt(json, "qk_nope_head_dim"),
            QkRopeHeadDim = ModelConfig.RequiredInt(json, "qk_rope_head_dim"),
            VHeadDim = ModelConfig.RequiredInt(json, "v_head_dim"),
        };
        if (shape.QkRopeHeadDim % 2 != 0)
            throw new ModelConfigException("qk_rope_head_dim", $"= {shape.QkRopeHeadDim} must be even for rotary embeddings");
        return shape;
    }

    internal void WriteTo(JsonObject json)
    {
        json["q_lora_rank"] = QLoraRank is int r ? r : null;
        json["kv_lora_rank"] = KvLoraRank;
        json["qk_nope_head_dim"] = QkNopeHeadDim;
        json["qk_rope_head_dim"] = QkRopeHeadDim;
        json["v_head_dim"] = VHeadDim;
    }
}
