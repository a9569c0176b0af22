namespace Whetstone.Engine.Models.Vision;

/// <summary>Qwen2.5-VL's 3-D rotary positions (get_rope_index for images): a text token has the
/// same (temporal, height, width) position on all three axes, one past the largest position so
/// far; an image's tokens share one start s and sit at (s, s + row, s + column) of the merged grid,
/// and the text after it continues from s + max(rows, columns). Decoding continues 1-D at
/// sequence index + <see cref="Delta"/> (Hugging Face's rope_deltas).</summary>
public sealed record MropePositions(long[] Temporal, long[] Height, long[] Width, long Delta)
{
    public static MropePositions For(int length, IReadOnlyList<PlacedImage> images, int spatialMergeSize)
    {
        var t = new long[length];
        var h = new long[length];
        var w = new long[length];
        var byOffset = images.ToDictionary(i => i.Offset);
        long next = 0;
        for (int i = 0; i < length;)
        {
            if (byOffset.TryGetValue(i, out var image))
            {
                int rows = image.Patches.GridH / spatialMergeSize, columns = image.Patches.GridW / spatialMergeSize;
                int frames = image.Patches.GridT;
                for (int f = 0; f < frames; f++)
                    for (int r = 0; r < rows; r++)
                        for (int c = 0; c < columns; c++, i++)
                        {
                            t[i] = next; h[i] = next + r; w[i] = next + c;   // an image's frames share temporal index 0
                        }
                next += Math.Max(frames > 0 ? 1 : 0, Math.Max(rows, columns));
                continue;
            }
            t[i] = h[i] = w[i] = next++;
            i++;
        }
        return new MropePositions(t, h, w, next - length);
    }
}
