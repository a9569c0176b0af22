namespace Whetstone.Engine.ModelMaker;

/// <summary>The shape of a random Qwen2.5-VL vision tower. The defaults are tiny (2 blocks, width
/// 32) but keep Qwen's 14-pixel patches and 2×2 merging; a 56-pixel window (2×2 LM tokens) makes
/// windowed attention differ from full attention already on a 112-pixel image.</summary>
public sealed record RandomVisionSpec
{
    public int Depth { get; init; } = 2;
    public int HiddenSize { get; init; } = 32;
    public int NumHeads { get; init; } = 2;
    public int IntermediateSize { get; init; } = 64;
    public int PatchSize { get; init; } = 14;
    public int WindowSize { get; init; } = 56;
    public IReadOnlyList<int> FullAttBlockIndexes { get; init; } = [1];
    /// <summary>A frozen pretrained encoder as the tower (<see cref="Models.Vision.FrozenEncoders"/>):
    /// the ViT fields above are then ignored and only the projector is random.</summary>
    public string? FrozenEncoder { get; init; }
    /// <summary>Qwen3-VL's tower (on a Qwen3 LM): LayerNorm blocks, learned positions, deepstack.</summary>
    public Models.Vision.VisionArchitecture Architecture { get; init; } = Models.Vision.VisionArchitecture.Qwen2_5Vl;
    /// <summary>Qwen3-VL: a side × side learned position table (4 × 4: small enough that a 4 × 6 grid interpolates).</summary>
    public int NumPositionEmbeddings { get; init; } = 16;
    public IReadOnlyList<int> DeepstackVisualIndexes { get; init; } = [0, 1];

    /// <summary>A tiny Qwen3-VL tower: 16-pixel patches, 3 blocks, deepstack from blocks 0 and 1.</summary>
    public static RandomVisionSpec Qwen3Vl() => new()
    {
        Architecture = Models.Vision.VisionArchitecture.Qwen3Vl, Depth = 3, PatchSize = 16, FullAttBlockIndexes = [],
    };
}
