using SkiaSharp;

namespace Whetstone.Cookbook.Vision;

/// <summary>A picture of one texture, one letter or one digit and what it shows. For a letter,
/// <see cref="LetterBox"/> is its 4 × 6 stroke grid in pixels (left, top, right, bottom).</summary>
public sealed record PatternImage(byte[] Png, string Caption, string Texture, string Colour, char? Letter, SKRect LetterBox = default, int? Digit = null);

/// <summary>The zoo VLM's texture, letter and digit pictures (#17), beside ShapeScenes' shapes: a
/// large square filled with solid colour, stripes, dots or checks (a repeating bitmap shader), a
/// black capital letter (StrokeLetters) and a black seven-segment digit (ShapeScenes.Digit).
/// Deterministic by seed.</summary>
public static class PatternScenes
{
    public static readonly string[] Textures = ["solid", "stripes", "dots", "checks"];

    /// <summary>Pixels of one repeat of a texture; stripes are half of it, checks' squares half a side.</summary>
    public const int Period = 8;

    /// <summary>Inset of the textured square from the picture's edge: an eighth of the side.</summary>
    public static int Inset(int size) => size / 8;

    /// <summary>A square of one colour and texture, filling the picture but for an eighth at each
    /// edge; caption "red stripes", "blue dots", "solid green".</summary>
    public static PatternImage Texture(int seed, int size = 84)
    {
        var random = new Random(seed);
        var (colourName, colour) = ShapeScenes.Colours[random.Next(ShapeScenes.Colours.Length)];
        string texture = Textures[random.Next(Textures.Length)];
        using var bitmap = new SKBitmap(size, size);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var tile = Tile(texture, colour);
        using var shader = SKShader.CreateBitmap(tile, SKShaderTileMode.Repeat, SKShaderTileMode.Repeat);
        using var paint = new SKPaint { Shader = shader, IsAntialias = false };
        int inset = Inset(size);
        canvas.DrawRect(inset, inset, size - 2 * inset, size - 2 * inset, paint);
        string caption = texture == "solid" ? $"solid {colourName}" : $"{colourName} {texture}";
        return new PatternImage(Encode(bitmap), caption, texture, colourName, null);
    }

    /// <summary>One repeat of the texture: the colour on white.</summary>
    static SKBitmap Tile(string texture, SKColor colour)
    {
        var tile = new SKBitmap(Period, Period);
        using var canvas = new SKCanvas(tile);
        canvas.Clear(texture == "solid" ? colour : SKColors.White);
        using var paint = new SKPaint { Color = colour, IsAntialias = false };
        const int half = Period / 2;
        switch (texture)
        {
            case "solid": break;
            case "stripes": canvas.DrawRect(0, 0, half, Period, paint); break;          // vertical
            case "checks": canvas.DrawRect(0, 0, half, half, paint); canvas.DrawRect(half, half, half, half, paint); break;
            case "dots": canvas.DrawCircle(half, half, DotRadius, paint); break;
            default: throw new ArgumentException($"unknown texture '{texture}'", nameof(texture));
        }
        return tile;
    }

    /// <summary>Radius of a dot in pixels, centred in its tile.</summary>
    public const float DotRadius = 2.5f;

    /// <summary>A black capital letter 4 × 6 grid steps large, at a seed-chosen offset of up to
    /// an eighth of the picture from its centre; caption "the letter K".</summary>
    public static PatternImage Letter(int seed, int size = 84)
    {
        var random = new Random(seed);
        char letter = StrokeLetters.Alphabet[random.Next(StrokeLetters.Alphabet.Length)];
        float step = size / 10f, shift = size / 8f;
        float x = size / 2f - 2 * step + (float)(random.NextDouble() * 2 - 1) * shift;
        float y = size / 2f - 3 * step + (float)(random.NextDouble() * 2 - 1) * shift;
        using var bitmap = new SKBitmap(size, size);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint
        {
            Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = LetterStrokeWidth(size),
            StrokeCap = SKStrokeCap.Round, StrokeJoin = SKStrokeJoin.Round, IsAntialias = true,
        };
        using var path = StrokeLetters.Path(letter, x, y, step);
        canvas.DrawPath(path, paint);
        return new PatternImage(Encode(bitmap), $"the letter {letter}", "", "black", letter, new SKRect(x, y, x + 4 * step, y + 6 * step));
    }

    /// <summary>A seed-chosen digit 0–9 in seven segments, centred as ShapeScenes.Digit draws it;
    /// caption "the digit 7".</summary>
    public static PatternImage Digit(int seed, int size = 84)
    {
        int digit = new Random(seed).Next(10);
        var drawn = ShapeScenes.Digit(digit, size);
        return new PatternImage(drawn.Png, drawn.Caption, "", "black", null, Digit: digit);
    }

    /// <summary>Width of a letter's strokes in pixels.</summary>
    public static float LetterStrokeWidth(int size) => size / 16f;

    static byte[] Encode(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
