using Whetstone.Engine.Models;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.ModelMaker;

/// <summary>The shape and files of a random-weight model to create.</summary>
public sealed record RandomModelSpec
{
    public ModelFamily Family { get; init; } = ModelFamily.Qwen3;
    public int HiddenSize { get; init; } = 64;
    public int NumHiddenLayers { get; init; } = 2;
    public int NumAttentionHeads { get; init; } = 4;
    public int NumKeyValueHeads { get; init; } = 2;
    /// <summary>Null: hidden / heads.</summary>
    public int? HeadDim { get; init; }
    public int IntermediateSize { get; init; } = 192;
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public bool TieWordEmbeddings { get; init; } = true;
    public double RopeTheta { get; init; } = 10000;
    public RopeScaling RopeScaling { get; init; } = RopeScaling.None;
    /// <summary>Null: the family's own (Llama 3 tokens for llama, ChatML for Qwen).</summary>
    public ByteLevelTokenizerStyle? TokenizerStyle { get; init; }
    public IReadOnlyList<BpeMerge>? Merges { get; init; }
    /// <summary>Write Kimi K2's tokenizer format (tiktoken.model + tokenizer_config.json with its
    /// special tokens) instead of a tokenizer.json; TokenizerStyle is then unused.</summary>
    public bool KimiTokenizer { get; init; }
    /// <summary>Embedding rows; null: the tokenizer's size rounded up to a multiple of 64.
    /// Must hold every token.</summary>
    public int? VocabSize { get; init; }
    public long Seed { get; init; } = 0;
    public ScalarType StoredDtype { get; init; } = ScalarType.Float32;
    /// <summary>Split weights into shards of at most this many bytes (null: one file).</summary>
    public long? MaxShardBytes { get; init; }
    /// <summary>Multi-head latent attention (DeepseekV3 family only).</summary>
    public MlaShape? Mla { get; init; }
    /// <summary>Routed experts (DeepseekV3 and Qwen3Moe families).</summary>
    public MoeShape? Moe { get; init; }
    /// <summary>config.json's model_type when not the family's own ("kimi_k2").</summary>
    public string? ModelTypeName { get; init; }
    /// <summary>Store the layers' projection weights as block-scaled float8_e4m3fn with
    /// weight_scale_inv, as DeepSeek-V3 and Kimi K2 are released.</summary>
    public bool Fp8Weights { get; init; }

    static readonly MoeShape KimiTinyExperts = new()
    {
        Scoring = RouterScoring.Sigmoid, RoutedExperts = 16, ExpertsPerToken = 4, MoeIntermediateSize = 32, SharedExperts = 1,
        FirstKDenseReplace = 1, NGroup = 4, TopkGroup = 2, NormTopkProb = true, RoutedScalingFactor = 2.5,
    };
    /// <summary>A Qwen2.5-VL vision tower on a Qwen2 LM (null: text only).</summary>
    public RandomVisionSpec? Vision { get; init; }

    public ByteLevelTokenizerStyle EffectiveTokenizerStyle =>
        TokenizerStyle ?? (Vision is not null ? ByteLevelTokenizerStyle.ChatMlVision
            : Family == ModelFamily.Llama ? ByteLevelTokenizerStyle.Llama3 : ByteLevelTokenizerStyle.ChatMl);

    /// <summary>Qwen3-shaped presets used by tests and benchmarks; the name is the rough
    /// parameter count with an 8192-row vocabulary.</summary>
    public static RandomModelSpec Preset(string name) => name.ToLowerInvariant() switch
    {
        "tiny" => new RandomModelSpec(),
        // The shipped zoo's shapes (vocabulary from the trained tokenizer): ~2M and ~10M parameters.
        "nano" => new RandomModelSpec { HiddenSize = 160, NumHiddenLayers = 6, NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 40, IntermediateSize = 480, MaxPositionEmbeddings = 1024 },
        "micro" => new RandomModelSpec { HiddenSize = 320, NumHiddenLayers = 8, NumAttentionHeads = 8, NumKeyValueHeads = 4, HeadDim = 40, IntermediateSize = 960, MaxPositionEmbeddings = 1024 },
        "5m" => new RandomModelSpec { HiddenSize = 256, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 64, IntermediateSize = 768, VocabSize = 8192 },
        "30m" => new RandomModelSpec { HiddenSize = 512, NumHiddenLayers = 8, NumAttentionHeads = 8, NumKeyValueHeads = 4, HeadDim = 64, IntermediateSize = 1536, VocabSize = 8192 },
        "120m" => new RandomModelSpec { HiddenSize = 768, NumHiddenLayers = 16, NumAttentionHeads = 12, NumKeyValueHeads = 4, HeadDim = 64, IntermediateSize = 2304, VocabSize = 8192 },
        // Kimi K2's layout at toy size: MLA with a query bottleneck, one dense layer first, then
        // 16 fine-grained experts (4 groups, best 2 groups, 4 per token) plus a shared expert, YaRN.
        "kimi-tiny" or "deepseek-tiny" => new RandomModelSpec
        {
            Family = ModelFamily.DeepseekV3, ModelTypeName = name.StartsWith("kimi", StringComparison.OrdinalIgnoreCase) ? "kimi_k2" : null,
            HiddenSize = 64, NumHiddenLayers = 3, NumAttentionHeads = 4, NumKeyValueHeads = 4, IntermediateSize = 128, TieWordEmbeddings = false,
            Mla = new MlaShape { QLoraRank = 48, KvLoraRank = 32, QkNopeHeadDim = 16, QkRopeHeadDim = 8, VHeadDim = 16 },
            Moe = KimiTinyExperts,
            RopeScaling = new RopeScaling { Type = "yarn", Factor = 4, OriginalMaxPositionEmbeddings = 512, BetaFast = 32, BetaSlow = 1, Mscale = 1, MscaleAllDim = 1 },
        },
        // DeepSeek-V2-Lite-style: plain q_proj (q_lora_rank null), no groups.
        "deepseek-tiny-qproj" => Preset("deepseek-tiny") with
        {
            Mla = new MlaShape { QLoraRank = null, KvLoraRank = 32, QkNopeHeadDim = 16, QkRopeHeadDim = 8, VHeadDim = 16 },
            Moe = KimiTinyExperts with { NGroup = 1, TopkGroup = 1, NormTopkProb = false, RoutedScalingFactor = 1.0 },
            RopeScaling = RopeScaling.None,
        },
        // The zoo's MoE (models/whet-moe-nano): K2's layout at the size this machine can pretrain
        // in minutes — MLA with a query bottleneck, a dense first layer, then 8 fine-grained
        // experts (4 groups of 2, best 2 groups, 2 per token) plus a shared expert.
        "moe-nano" => new RandomModelSpec
        {
            Family = ModelFamily.DeepseekV3, ModelTypeName = "kimi_k2",
            HiddenSize = 128, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 4, IntermediateSize = 384, TieWordEmbeddings = true,
            MaxPositionEmbeddings = 1024,
            Mla = new MlaShape { QLoraRank = 64, KvLoraRank = 32, QkNopeHeadDim = 24, QkRopeHeadDim = 8, VHeadDim = 32 },
            Moe = new MoeShape
            {
                Scoring = RouterScoring.Sigmoid, RoutedExperts = 8, ExpertsPerToken = 2, MoeIntermediateSize = 96, SharedExperts = 1,
                FirstKDenseReplace = 1, NGroup = 4, TopkGroup = 2, NormTopkProb = true, RoutedScalingFactor = 1.0,
            },
        },
        "qwen3moe-tiny" => new RandomModelSpec
        {
            Family = ModelFamily.Qwen3Moe, HiddenSize = 64, NumHiddenLayers = 3, NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 16, IntermediateSize = 128,
            Moe = new MoeShape { Scoring = RouterScoring.Softmax, RoutedExperts = 8, ExpertsPerToken = 2, MoeIntermediateSize = 32, NormTopkProb = true, MlpOnlyLayers = [1] },
            // Qwen's YaRN: no mscale keys, so cos/sin carry 0.1·ln(factor) + 1.
            RopeScaling = new RopeScaling { Type = "yarn", Factor = 4, OriginalMaxPositionEmbeddings = 512 },
        },
        _ => throw new ArgumentException($"unknown preset '{name}' (tiny, nano, micro, 5m, 30m, 120m, kimi-tiny, deepseek-tiny, deepseek-tiny-qproj, qwen3moe-tiny, moe-nano)"),
    };
}
