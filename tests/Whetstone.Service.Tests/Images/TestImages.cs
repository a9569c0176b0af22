using SkiaSharp;

namespace Whetstone.Service.Tests.Images;

/// <summary>Images drawn with Skia for the tests: four coloured quadrants (so every rotation and
/// mirror is told apart), encoded as PNG or JPEG, optionally with an EXIF orientation.</summary>
internal static class TestImages
{
    public static readonly SKColor TopLeft = SKColors.Red, TopRight = SKColors.Blue, BottomLeft = SKColors.Lime, BottomRight = SKColors.White;

    public static byte[] Quadrants(int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            void Fill(SKColor color, int x, int y) { using var paint = new SKPaint { Color = color }; canvas.DrawRect(x, y, width / 2f, height / 2f, paint); }
            Fill(TopLeft, 0, 0);
            Fill(TopRight, width / 2, 0);
            Fill(BottomLeft, 0, height / 2);
            Fill(BottomRight, width / 2, height / 2);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 95);
        return data.ToArray();
    }

    public static byte[] Png(int width = 112, int height = 56) => Quadrants(width, height, SKEncodedImageFormat.Png);

    /// <summary>A JPEG with an APP1 EXIF segment holding only the orientation tag (0x0112).</summary>
    public static byte[] JpegWithOrientation(int width, int height, ushort orientation)
    {
        var jpeg = Quadrants(width, height, SKEncodedImageFormat.Jpeg);
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0, 0, 0, 8,     // big-endian TIFF, first IFD at 8
            0, 1,                                               // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0,   // Orientation, SHORT, 1
            0, 0, 0, 0,                                         // no next IFD
        ];
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        int length = payload.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
        return [jpeg[0], jpeg[1], .. app1, .. jpeg[2..]];
    }
}
