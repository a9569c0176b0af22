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
}
