using SkiaSharp;

namespace Whetstone.Cookbook.Vision;

/// <summary>One generated picture and what it shows, for pretraining a small VLM on captions.</summary>
public sealed record CaptionedImage(byte[] Png, string Caption, IReadOnlyList<DrawnShape> Shapes);

/// <summary>A shape as drawn: kind, colour name, centre in pixels and the grid cell it sits in.</summary>
public sealed record DrawnShape(string Kind, string Colour, float X, float Y, string Position);

/// <summary>A sketch of the zoo VLM's data generator (#17): scenes of a few shapes on a white
/// canvas, drawn with SkiaSharp, captioned by count, colour, kind and position ("two red circles
/// at the top left and a blue square at the bottom right"), and digits drawn as seven-segment
/// strokes (no font needed, so the NoDependencies Skia natives suffice). Deterministic by seed.
/// The zoo VLM (models/whet-vl-nano) is pretrained on these scenes by VlmPretrainRecipe.</summary>
public static class ShapeScenes
{
    public static readonly (string Name, SKColor Colour)[] Colours =
        [("red", new SKColor(220, 30, 30)), ("green", new SKColor(30, 170, 40)), ("blue", new SKColor(30, 60, 220)), ("yellow", new SKColor(235, 200, 20))];
    public static readonly string[] Kinds = ["circle", "square", "triangle"];
    static readonly string[] Rows = ["top", "middle", "bottom"], Columns = ["left", "centre", "right"];
    static readonly string[] Counts = ["no", "one", "two", "three", "four"];

    /// <summary>Shapes the few-shot task draws: never drawn in the zoo VLM's pretraining, but
    /// their names occur there in text, so the LM knows the words.</summary>
    public static readonly string[] HeldOutKinds = ["star", "cross", "hexagon", "diamond"];

    /// <summary>1–3 shapes of one kind and colour in distinct cells of a 3 × 3 grid; the kind is
    /// drawn from <paramref name="kinds"/> (default <see cref="Kinds"/>).</summary>
    public static CaptionedImage Shapes(int seed, int size = 112, IReadOnlyList<string>? kinds = null)
    {
        var random = new Random(seed);
        var (colourName, colour) = Colours[random.Next(Colours.Length)];
        kinds ??= Kinds;
        string kind = kinds[random.Next(kinds.Count)];
        int count = 1 + random.Next(3);
        var cells = Enumerable.Range(0, 9).OrderBy(_ => random.Next()).Take(count).Order().ToArray();
        float cell = size / 3f, radius = cell * 0.35f;
        using var bitmap = new SKBitmap(size, size);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint { Color = colour, IsAntialias = true };
        var shapes = new List<DrawnShape>();
        foreach (int c in cells)
        {
            float x = (c % 3 + 0.5f) * cell, y = (c / 3 + 0.5f) * cell;
            if (kind == "circle") canvas.DrawCircle(x, y, radius, paint);
            else if (kind == "square") canvas.DrawRect(x - radius, y - radius, 2 * radius, 2 * radius, paint);
            else
            {
                using var path = Outline(kind, x, y, radius);
                canvas.DrawPath(path, paint);
            }
            shapes.Add(new DrawnShape(kind, colourName, x, y, $"{Rows[c / 3]} {Columns[c % 3]}"));
        }
        string noun = count == 1 ? kind : Plural(kind);
        string caption = $"{Counts[count]} {colourName} {noun}: " + string.Join(", ", shapes.Select(s => "at the " + s.Position));
        return new CaptionedImage(Encode(bitmap), caption, shapes);
    }

    // Alternating outer and inner points of a five-pointed star, the first straight up.
    static (float, float) StarPoint(int i)
    {
        float k = i % 2 == 0 ? 1f : 0.42f;
        double angle = i * Math.PI / 5;
        return (k * (float)Math.Sin(angle), -k * (float)Math.Cos(angle));
    }

    public static string Plural(string kind) => kind.EndsWith('s') ? kind + "es" : kind + "s";

    public static string CountWord(int count) => Counts[count];

    /// <summary>Outlines of the polygon kinds, centred on (x, y) within a box of half-side r.</summary>
    static SKPath Outline(string kind, float x, float y, float r)
    {
        var path = new SKPath();
        (float, float)[] points = kind switch
        {
            "triangle" => [(0, -1), (1, 1), (-1, 1)],
            "diamond" => [(0, -1), (0.7f, 0), (0, 1), (-0.7f, 0)],
            "hexagon" => Enumerable.Range(0, 6).Select(i => ((float)Math.Cos(i * Math.PI / 3), (float)Math.Sin(i * Math.PI / 3))).ToArray(),
            "star" => Enumerable.Range(0, 10).Select(StarPoint).ToArray(),
            "cross" => [(-0.3f, -1), (0.3f, -1), (0.3f, -0.3f), (1, -0.3f), (1, 0.3f), (0.3f, 0.3f), (0.3f, 1), (-0.3f, 1), (-0.3f, 0.3f), (-1, 0.3f), (-1, -0.3f), (-0.3f, -0.3f)],
            _ => throw new ArgumentException($"unknown shape kind '{kind}'", nameof(kind)),
        };
        path.MoveTo(x + points[0].Item1 * r, y + points[0].Item2 * r);
        foreach (var (px, py) in points.Skip(1)) path.LineTo(x + px * r, y + py * r);
        path.Close();
        return path;
    }

    // Segments a–g of a seven-segment digit: which are lit for 0–9.
    static readonly string[] Segments = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abfgcd"];

    /// <summary>A black digit drawn as seven-segment strokes; caption "the digit 7".</summary>
    public static CaptionedImage Digit(int digit, int size = 56)
    {
        using var bitmap = new SKBitmap(size, size);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint { Color = SKColors.Black, StrokeWidth = size / 10f, StrokeCap = SKStrokeCap.Round, IsAntialias = true };
        float l = size * 0.3f, r = size * 0.7f, t = size * 0.15f, m = size * 0.5f, b = size * 0.85f;
        var lines = new Dictionary<char, (float, float, float, float)>
        {
            ['a'] = (l, t, r, t), ['b'] = (r, t, r, m), ['c'] = (r, m, r, b), ['d'] = (l, b, r, b),
            ['e'] = (l, m, l, b), ['f'] = (l, t, l, m), ['g'] = (l, m, r, m),
        };
        foreach (char s in Segments[digit])
        {
            var (x0, y0, x1, y1) = lines[s];
            canvas.DrawLine(x0, y0, x1, y1, paint);
        }
        return new CaptionedImage(Encode(bitmap), $"the digit {digit}", []);
    }

    static byte[] Encode(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
