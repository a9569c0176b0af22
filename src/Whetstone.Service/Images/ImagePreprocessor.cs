using SkiaSharp;
using Whetstone.Engine.Models.Vision;

namespace Whetstone.Service.Images;

/// <summary>Qwen2-VL's image processor in plain floats: resize so each side is a multiple of
/// patch × merge (28 px) with the pixel count kept within [min, max] ("smart resize"), scale to
/// [0, 1], normalise with the model's mean and std (CLIP's; 0.5 for Qwen3-VL), and cut into patches with the frame repeated
/// temporal_patch_size times (a frozen encoder's tiles are
/// not normalised here: see <see cref="FrozenEncoders"/>). Resampling is Skia's Catmull-Rom cubic, close to but not bit-equal
/// with PIL's bicubic, so pixel values can differ from Hugging Face's by a few levels.</summary>
internal static class ImagePreprocessor
{
    public const int DefaultMinPixels = 56 * 56, DefaultMaxPixels = 28 * 28 * 1280;

    /// <summary>Target (height, width): multiples of <paramref name="factor"/>, aspect kept,
    /// pixel count in [min, max]. Rounding is Python's (half to even), as in the reference.</summary>
    public static (int Height, int Width) SmartResize(int height, int width, int factor, int minPixels, int maxPixels)
    {
        int hBar = Math.Max(factor, (int)Math.Round((double)height / factor, MidpointRounding.ToEven) * factor);
        int wBar = Math.Max(factor, (int)Math.Round((double)width / factor, MidpointRounding.ToEven) * factor);
        if ((long)hBar * wBar > maxPixels)
        {
            double beta = Math.Sqrt((double)height * width / maxPixels);
            hBar = Math.Max(factor, (int)Math.Floor(height / beta / factor) * factor);
            wBar = Math.Max(factor, (int)Math.Floor(width / beta / factor) * factor);
        }
        else if ((long)hBar * wBar < minPixels)
        {
            double beta = Math.Sqrt((double)minPixels / ((double)height * width));
            hBar = (int)Math.Ceiling(height * beta / factor) * factor;
            wBar = (int)Math.Ceiling(width * beta / factor) * factor;
        }
        return (hBar, wBar);
    }

    public static ImagePatches Prepare(UprightImage image, VisionConfig vision, int minPixels = DefaultMinPixels, int maxPixels = DefaultMaxPixels)
    {
        int m = vision.SpatialMergeSize, p = vision.PatchSize, t = vision.TemporalPatchSize;
        var (height, width) = SmartResize(image.Height, image.Width, vision.PixelsPerToken, minPixels, maxPixels);
        var rgb = Resize(image, width, height);
        int gridH = height / p, gridW = width / p;
        var values = new float[gridH * gridW * vision.PatchValues];
        // A frozen encoder takes raw 0–255 values: its own preprocessing graph normalises them.
        bool raw = vision.FrozenEncoder is not null;
        var mean = vision.ImageMean;
        var std = vision.ImageStd;
        int index = 0;
        // Patch order (block row, block col, row in block, col in block): each merge group contiguous.
        for (int bh = 0; bh < gridH / m; bh++)
            for (int bw = 0; bw < gridW / m; bw++)
                for (int mh = 0; mh < m; mh++)
                    for (int mw = 0; mw < m; mw++)
                    {
                        int top = (bh * m + mh) * p, left = (bw * m + mw) * p;
                        // Values within a patch: channel, frame, row, column.
                        for (int c = 0; c < 3; c++)
                            for (int frame = 0; frame < t; frame++)
                                for (int y = 0; y < p; y++)
                                    for (int x = 0; x < p; x++)
                                    {
                                        byte level = rgb[((top + y) * width + left + x) * 3 + c];
                                        values[index++] = raw ? level : (level / 255f - mean[c]) / std[c];
                                    }
                    }
        return new ImagePatches(values, 1, gridH, gridW);
    }

    static byte[] Resize(UprightImage image, int width, int height)
    {
        if (image.Width == width && image.Height == height) return image.Rgb;
        using var source = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, j = 0; i < image.Rgb.Length; i += 3, j += 4)
        {
            rgba[j] = image.Rgb[i]; rgba[j + 1] = image.Rgb[i + 1]; rgba[j + 2] = image.Rgb[i + 2]; rgba[j + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, source.GetPixels(), rgba.Length);
        using var resized = source.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul),
            new SKSamplingOptions(SKCubicResampler.CatmullRom)) ?? throw new InvalidOperationException("Skia could not resize the image");
        var bytes = resized.Bytes;
        var rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = bytes[j]; rgb[i + 1] = bytes[j + 1]; rgb[i + 2] = bytes[j + 2];
        }
        return rgb;
    }
}
