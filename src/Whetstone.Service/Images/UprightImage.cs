namespace Whetstone.Service.Images;

/// <summary>A decoded image turned the way its EXIF orientation says it is seen: 8-bit RGB,
/// row-major, <c>Rgb[(y·Width + x)·3 + c]</c>.</summary>
internal sealed record UprightImage(int Width, int Height, byte[] Rgb)
{
    public (byte R, byte G, byte B) Pixel(int x, int y)
    {
        int i = (y * Width + x) * 3;
        return (Rgb[i], Rgb[i + 1], Rgb[i + 2]);
    }
}
