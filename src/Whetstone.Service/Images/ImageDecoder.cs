using SkiaSharp;

namespace Whetstone.Service.Images;

/// <summary>PNG/JPEG bytes → an <see cref="UprightImage"/>, refusing with a 400 that names the
/// field: bytes over the limit, bytes that are no image, a format other than the one declared,
/// a canvas over the pixel limit, and truncated or corrupt data (Skia reports those as an
/// incomplete or invalid decode rather than failing, so the result code is checked).</summary>
internal static class ImageDecoder
{
    public static UprightImage Decode(byte[] bytes, string format, string field, ImageLimits limits)
    {
        if (bytes.Length > limits.MaxEncodedBytes)
            throw ApiError.BadRequest(field, $"is {bytes.Length} bytes, more than the limit of {limits.MaxEncodedBytes}");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data) ?? throw ApiError.BadRequest(field, "is not a PNG or JPEG image (no image header found)");
        string actual = codec.EncodedFormat switch
        {
            SKEncodedImageFormat.Png => "png",
            SKEncodedImageFormat.Jpeg => "jpeg",
            var other => throw ApiError.BadRequest(field, $"is a {other} image; only png and jpeg are accepted"),
        };
        if (actual != format) throw ApiError.BadRequest(field, $"is a {actual} image but format says '{format}'");
        long pixels = (long)codec.Info.Width * codec.Info.Height;
        if (pixels > limits.MaxPixels)
            throw ApiError.BadRequest(field, $"is {codec.Info.Width}×{codec.Info.Height} = {pixels} pixels, more than the limit of {limits.MaxPixels}");

        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var result = codec.GetPixels(info, out byte[] rgba);
        if (result != SKCodecResult.Success)
            throw ApiError.BadRequest(field, $"is truncated or corrupt (decoder: {result})");
        return Orient(rgba, info.Width, info.Height, codec.EncodedOrigin);
    }

    /// <summary>Composites alpha onto white (as Hugging Face's convert_to_rgb does) and
    /// turns the stored pixels upright. For each upright pixel (x, y) the stored one is read:
    /// e.g. RightTop (EXIF 6, "rotate 90° clockwise to view") reads stored (y, H−1−x).</summary>
    internal static UprightImage Orient(byte[] rgba, int w, int h, SKEncodedOrigin origin)
    {
        bool swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int width = swaps ? h : w, height = swaps ? w : h;
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                int s = (sy * w + sx) * 4, d = (y * width + x) * 3;
                int alpha = rgba[s + 3];
                for (int c = 0; c < 3; c++) rgb[d + c] = (byte)((rgba[s + c] * alpha + 255 * (255 - alpha) + 127) / 255);
            }
        return new UprightImage(width, height, rgb);
    }
}
