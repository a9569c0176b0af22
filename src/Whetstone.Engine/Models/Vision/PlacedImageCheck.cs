namespace Whetstone.Engine.Models.Vision;

/// <summary>What every path checks of a sequence's images before queuing it: the model has a
/// tower, and each image covers image pad tokens inside the sequence. The Service places images
/// this way; this guards direct engine callers. Returns the problem (field suffix, message) or null,
/// so the learner and the sampler can each throw their own argument error.</summary>
public static class PlacedImageCheck
{
    public static (string Field, string Message)? Problem(ModelConfig config, IReadOnlyList<int> tokens, IReadOnlyList<PlacedImage> images)
    {
        if (images.Count == 0) return null;
        var vision = config.Vision;
        if (vision is null) return ("", "has images, but this base model has no vision encoder");
        foreach (var image in images)
        {
            if (image.Patches.Values.Length != image.Patches.Patches * vision.PatchValues)
                return ("", $"an image at token {image.Offset} has {image.Patches.Values.Length} patch values, not {image.Patches.Patches} × {vision.PatchValues}");
            if (image.Patches.GridH % vision.SpatialMergeSize != 0 || image.Patches.GridW % vision.SpatialMergeSize != 0)
                return ("", $"an image at token {image.Offset} has a {image.Patches.GridH}×{image.Patches.GridW} patch grid, not a multiple of {vision.SpatialMergeSize}");
            int count = image.Patches.Tokens(vision.SpatialMergeSize);
            if (image.Offset < 0 || image.Offset + count > tokens.Count)
                return ("", $"an image at token {image.Offset} spans {count} tokens, past the sequence's {tokens.Count}");
            for (int t = image.Offset; t < image.Offset + count; t++)
                if (tokens[t] != vision.ImageTokenId)
                    return ($"[{t}]", $"= {tokens[t]} lies under an image but is not the image pad token {vision.ImageTokenId}");
        }
        return null;
    }
}
