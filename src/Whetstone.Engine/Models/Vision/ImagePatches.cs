namespace Whetstone.Engine.Models.Vision;

/// <summary>One image cut into the vision tower's patches, as plain floats (the Service makes
/// these; the engine turns them into tensors). Values: [GridT·GridH·GridW, C·T·P·P], patches
/// ordered so that each 2×2 merge group is contiguous, as Qwen2-VL's image processor orders them.</summary>
public sealed record ImagePatches(float[] Values, int GridT, int GridH, int GridW)
{
    public int Patches => GridT * GridH * GridW;

    /// <summary>LM positions the image occupies after the tower merges merge×merge patches.</summary>
    public int Tokens(int spatialMergeSize) => Patches / (spatialMergeSize * spatialMergeSize);
}

/// <summary>An image placed in a token sequence: its <see cref="ImagePatches.Tokens"/> positions
/// start at <paramref name="Offset"/> (they hold the image pad token).</summary>
public sealed record PlacedImage(int Offset, ImagePatches Patches);
