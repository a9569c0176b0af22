using SkiaSharp;
using Whetstone.Service.Images;

namespace Whetstone.Service.Tests.Images;

public class ImageDecoderTests
{
    static void AssertColour(SKColor expected, (byte R, byte G, byte B) actual, string where)
    {
        Assert.True(Math.Abs(expected.Red - actual.R) < 40 && Math.Abs(expected.Green - actual.G) < 40 && Math.Abs(expected.Blue - actual.B) < 40,
            $"{where}: expected {expected}, got ({actual.R}, {actual.G}, {actual.B})");
    }

    [Fact]
    public void PngDecodesWithItsQuadrantsInPlace()
    {
        var image = ImageDecoder.Decode(TestImages.Png(56, 28), "png", "f", ImageLimits.Default);
        Assert.Equal((56, 28), (image.Width, image.Height));
        AssertColour(TestImages.TopLeft, image.Pixel(5, 5), "top left");
        AssertColour(TestImages.TopRight, image.Pixel(50, 5), "top right");
        AssertColour(TestImages.BottomLeft, image.Pixel(5, 22), "bottom left");
        AssertColour(TestImages.BottomRight, image.Pixel(50, 22), "bottom right");
    }

    // Stored 56 × 28; EXIF 6 = turn 90° clockwise to view, 8 = counter-clockwise, 3 = 180°, 1 = as stored.
    [Theory]
    [InlineData(6, 28, 56)]
    [InlineData(8, 28, 56)]
    [InlineData(3, 56, 28)]
    [InlineData(1, 56, 28)]
    public void JpegIsTurnedUprightByItsExifOrientation(ushort orientation, int width, int height)
    {
        var image = ImageDecoder.Decode(TestImages.JpegWithOrientation(56, 28, orientation), "jpeg", "f", ImageLimits.Default);
        Assert.Equal((width, height), (image.Width, image.Height));
        // Where each stored quadrant is seen: (top-left, top-right, bottom-left, bottom-right) of the upright image.
        var seen = orientation switch
        {
            6 => new[] { TestImages.BottomLeft, TestImages.TopLeft, TestImages.BottomRight, TestImages.TopRight },
            8 => new[] { TestImages.TopRight, TestImages.BottomRight, TestImages.TopLeft, TestImages.BottomLeft },
            3 => new[] { TestImages.BottomRight, TestImages.BottomLeft, TestImages.TopRight, TestImages.TopLeft },
            _ => new[] { TestImages.TopLeft, TestImages.TopRight, TestImages.BottomLeft, TestImages.BottomRight },
        };
        int qx = width / 4, qy = height / 4;
        AssertColour(seen[0], image.Pixel(qx, qy), "top left");
        AssertColour(seen[1], image.Pixel(3 * qx, qy), "top right");
        AssertColour(seen[2], image.Pixel(qx, 3 * qy), "bottom left");
        AssertColour(seen[3], image.Pixel(3 * qx, 3 * qy), "bottom right");
    }

    [Fact]
    public void BadBytesAreRefusedNamingTheField()
    {
        var png = TestImages.Png(56, 28);
        var notImage = Assert.Throws<ApiError>(() => ImageDecoder.Decode("hello, not an image"u8.ToArray(), "png", "x.data", ImageLimits.Default));
        Assert.Equal("x.data", notImage.Field);
        Assert.Contains("not a PNG or JPEG", notImage.Message);

        var truncated = Assert.Throws<ApiError>(() => ImageDecoder.Decode(png[..(png.Length / 2)], "png", "x.data", ImageLimits.Default));
        Assert.Equal("x.data", truncated.Field);
        Assert.Contains("truncated", truncated.Message);

        var jpeg = TestImages.JpegWithOrientation(56, 28, 1);
        var truncatedJpeg = Assert.Throws<ApiError>(() => ImageDecoder.Decode(jpeg[..(jpeg.Length * 2 / 3)], "jpeg", "x.data", ImageLimits.Default));
        Assert.Contains("truncated", truncatedJpeg.Message);

        var mislabelled = Assert.Throws<ApiError>(() => ImageDecoder.Decode(png, "jpeg", "x.data", ImageLimits.Default));
        Assert.Contains("is a png image but format says 'jpeg'", mislabelled.Message);

        var bytes = Assert.Throws<ApiError>(() => ImageDecoder.Decode(png, "png", "x.data", new ImageLimits { MaxEncodedBytes = 100 }));
        Assert.Contains($"is {png.Length} bytes, more than the limit of 100", bytes.Message);

        var pixels = Assert.Throws<ApiError>(() => ImageDecoder.Decode(png, "png", "x.data", new ImageLimits { MaxPixels = 1000 }));
        Assert.Contains("56×28 = 1568 pixels, more than the limit of 1000", pixels.Message);
    }
}
