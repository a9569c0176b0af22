using SkiaSharp;

namespace Whetstone.Cookbook.Vision;

/// <summary>The 26 capital letters as strokes on a 4 × 6 grid, drawn with SkiaSharp paths. A
/// stroke font rather than a system typeface: the NoDependencies Skia natives find fonts only
/// where the machine has them, so text drawn from a typeface would make the pretraining data
/// (and its tests) depend on which fonts a machine happens to have, or draw nothing.</summary>
public static class StrokeLetters
{
    public const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    // Each letter: polylines separated by '|', each a run of grid points "xy" (x 0–4 left to
    // right, y 0–6 top to bottom). Curves are a few straight pieces.
    static readonly string[] Glyphs =
    [
        "06 20 46|13 33",                       // A
        "06 00 30 41 42 33 03|33 44 45 36 06",  // B
        "41 30 10 01 05 16 36 45",              // C
        "00 20 41 45 26 06 00",                 // D
        "40 00 06 46|03 33",                    // E
        "40 00 06|03 33",                       // F
        "41 30 10 01 05 16 36 45 43 23",        // G
        "00 06|40 46|03 43",                    // H
        "10 30|20 26|16 36",                    // I
        "10 40|30 35 26 16 05",                 // J
        "00 06|40 03 46",                       // K
        "00 06 46",                             // L
        "06 00 23 40 46",                       // M
        "06 00 46 40",                          // N
        "10 30 41 45 36 16 05 01 10",           // O
        "06 00 30 41 42 33 03",                 // P
        "10 30 41 45 36 16 05 01 10|24 46",     // Q
        "06 00 30 41 42 33 03|23 46",           // R
        "41 30 10 01 02 13 33 44 45 36 16 05",  // S
        "00 40|20 26",                          // T
        "00 05 16 36 45 40",                    // U
        "00 26 40",                             // V
        "00 16 23 36 40",                       // W
        "00 46|40 06",                          // X
        "00 23 40|23 26",                       // Y
        "00 40 06 46",                          // Z
    ];

    /// <summary>The strokes of <paramref name="letter"/> as grid points, one array per polyline.</summary>
    public static (int X, int Y)[][] Strokes(char letter)
    {
        int i = Alphabet.IndexOf(letter);
        if (i < 0) throw new ArgumentException($"'{letter}' is not a capital letter A–Z", nameof(letter));
        return Glyphs[i].Split('|').Select(s => s.Split(' ').Select(p => (p[0] - '0', p[1] - '0')).ToArray()).ToArray();
    }

    /// <summary>A path of the letter's strokes in a box whose top left is (x, y) and whose grid
    /// step is <paramref name="step"/> pixels (so the letter is 4 × 6 steps).</summary>
    public static SKPath Path(char letter, float x, float y, float step)
    {
        var path = new SKPath();
        foreach (var stroke in Strokes(letter))
        {
            path.MoveTo(x + stroke[0].X * step, y + stroke[0].Y * step);
            foreach (var (px, py) in stroke.Skip(1)) path.LineTo(x + px * step, y + py * step);
        }
        return path;
    }
}
