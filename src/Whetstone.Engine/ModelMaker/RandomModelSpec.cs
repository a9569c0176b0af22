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
    /// <summary>Embedding rows; null: the tokenizer's size rounded up to a multiple of 64.
    /// Must hold every token.</summary>
    public int? VocabSize { get; init; }
    public long Seed { get; init; } = 0;
    public ScalarType StoredDtype { get; init; } = ScalarType.Float32;
    /// <summary>Split weights into shards of at most this many bytes (null: one file).</summary>
    public long? MaxShardBytes { get; init; }
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
        _ => throw new ArgumentException($"unknown preset '{name}' (tiny, nano, micro, 5m, 30m, 120m)"),
    };
}
