using static TorchSharp.torch;

namespace Whetstone.Engine.Models.Vision;

/// <summary>Index bookkeeping shared by the learner and the sampler: where each row's image
/// tokens sit, and the rows' M-RoPE positions as one tensor.</summary>
public static class VisionLanguageInputs
{
    /// <summary>The sequence positions of a row's image tokens, image after image.</summary>
    public static long[] ImagePositions(IReadOnlyList<PlacedImage> images, int spatialMergeSize) =>
        images.SelectMany(i => Enumerable.Range(i.Offset, i.Patches.Tokens(spatialMergeSize)).Select(p => (long)p)).ToArray();

    /// <summary>[3, B, T]: each row's M-RoPE positions over <paramref name="length"/> tokens
    /// (pads after a row's end continue as text, harmless as they come after every real query).</summary>
    public static Tensor RopePositions(IReadOnlyList<IReadOnlyList<PlacedImage>> images, long length, long first, VisionConfig vision, Device device)
    {
        var all = new long[3 * images.Count * length];
        for (int b = 0; b < images.Count; b++)
        {
            var p = MropePositions.For((int)(first + length), images[b], vision.SpatialMergeSize);
            for (long t = 0; t < length; t++)
            {
                all[(0 * images.Count + b) * length + t] = p.Temporal[first + t];
                all[(1 * images.Count + b) * length + t] = p.Height[first + t];
                all[(2 * images.Count + b) * length + t] = p.Width[first + t];
            }
        }
        return tensor(all, device: device).view(3, images.Count, length);
    }
}
