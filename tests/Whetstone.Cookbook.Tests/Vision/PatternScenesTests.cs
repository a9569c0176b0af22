using SkiaSharp;
using Whetstone.Cookbook.Vision;

namespace Whetstone.Cookbook.Tests.Vision;

public class PatternScenesTests
{
    /// <summary>Pixels of the textured square that have the captioned colour, and whether every
    /// column of the square is one colour (vertical stripes are; checks and dots are not).</summary>
    static (double Fraction, bool ColumnsUniform, int OtherPixels) Measure(PatternImage picture, int size)
    {
        using var bitmap = SKBitmap.Decode(picture.Png);
        var colour = ShapeScenes.Colours.Single(c => c.Name == picture.Colour).Colour;
        int inset = PatternScenes.Inset(size), coloured = 0, total = 0, other = 0;
        bool uniform = true;
        for (int x = inset; x < size - inset; x++)
        {
            var first = bitmap.GetPixel(x, inset);
            for (int y = inset; y < size - inset; y++)
            {
                var p = bitmap.GetPixel(x, y);
                total++;
                if (p == colour) coloured++;
                else if (p != SKColors.White) other++;
                if (p != first) uniform = false;
            }
        }
        return ((double)coloured / total, uniform, other);
    }

    [Fact]
    public void EachTextureCaptionMatchesThePixelStatisticsOfItsFill()
    {
        const int size = 84;
        var seen = new HashSet<string>();
        for (int seed = 0; seed < 40; seed++)
        {
            var picture = PatternScenes.Texture(seed, size);
            var (fraction, columnsUniform, other) = Measure(picture, size);
            Assert.Equal(0, other);   // no blending: only the colour and white
            Assert.Contains(picture.Texture, picture.Caption);
            Assert.Contains(picture.Colour, picture.Caption);
            seen.Add(picture.Texture);
            switch (picture.Texture)
            {
                case "solid": Assert.Equal(1.0, fraction); break;
                // Half of each 8-pixel repeat; the 63-pixel square holds 7 7/8 repeats, so within 1/63.
                case "stripes": Assert.InRange(fraction, 0.5 - 1 / 63.0, 0.5 + 1 / 63.0); Assert.True(columnsUniform, $"seed {seed}: stripes not vertical"); break;
                case "checks": Assert.InRange(fraction, 0.5 - 2 / 63.0, 0.5 + 2 / 63.0); Assert.False(columnsUniform); break;
                // A disc of radius 2.5 in an 8 × 8 tile: π·2.5²/64 = 0.31 of the area; a
                // pixel-centre count gives 16/64 = 0.25.
                case "dots": Assert.InRange(fraction, 0.18, 0.36); Assert.False(columnsUniform); break;
                default: Assert.Fail($"unknown texture {picture.Texture}"); break;
            }
            // Outside the square the picture is white.
            using var bitmap = SKBitmap.Decode(picture.Png);
            Assert.Equal(SKColors.White, bitmap.GetPixel(2, 2));
            Assert.Equal(SKColors.White, bitmap.GetPixel(size - 3, size / 2));
        }
        Assert.Equal(PatternScenes.Textures.Length, seen.Count);
        Assert.Equal(PatternScenes.Texture(5).Png, PatternScenes.Texture(5).Png);   // deterministic per seed
    }

    static double DistanceToSegment(double px, double py, double ax, double ay, double bx, double by)
    {
        double dx = bx - ax, dy = by - ay, length2 = dx * dx + dy * dy;
        double t = length2 == 0 ? 0 : Math.Clamp(((px - ax) * dx + (py - ay) * dy) / length2, 0, 1);
        double cx = ax + t * dx - px, cy = ay + t * dy - py;
        return Math.Sqrt(cx * cx + cy * cy);
    }

    /// <summary>The captioned letter's segments, in pixels, computed here from the grid points.</summary>
    static List<(double, double, double, double)> Segments(char letter, SKRect box)
    {
        double step = box.Width / 4;
        var segments = new List<(double, double, double, double)>();
        foreach (var stroke in StrokeLetters.Strokes(letter))
            for (int i = 1; i < stroke.Length; i++)
                segments.Add((box.Left + stroke[i - 1].X * step, box.Top + stroke[i - 1].Y * step, box.Left + stroke[i].X * step, box.Top + stroke[i].Y * step));
        return segments;
    }

    /// <summary>Every dark pixel lies on a stroke of the captioned letter, and every stroke's
    /// midpoint is dark: so the ink is that letter, not another one.</summary>
    static bool InkIsLetter(SKBitmap bitmap, char letter, SKRect box, int size)
    {
        var segments = Segments(letter, box);
        double reach = PatternScenes.LetterStrokeWidth(size) / 2 + 1.5;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                if (bitmap.GetPixel(x, y).Red < 100 && !segments.Any(s => DistanceToSegment(x + 0.5, y + 0.5, s.Item1, s.Item2, s.Item3, s.Item4) <= reach))
                    return false;
        return segments.All(s => bitmap.GetPixel((int)((s.Item1 + s.Item3) / 2), (int)((s.Item2 + s.Item4) / 2)).Red < 100);
    }

    [Fact]
    public void EachLetterCaptionNamesTheLetterWhoseStrokesAreInked()
    {
        const int size = 84;
        var seen = new HashSet<char>();
        for (int seed = 0; seed < 120; seed++)
        {
            var picture = PatternScenes.Letter(seed, size);
            char letter = picture.Letter!.Value;
            Assert.Equal($"the letter {letter}", picture.Caption);
            seen.Add(letter);
            using var bitmap = SKBitmap.Decode(picture.Png);
            Assert.True(InkIsLetter(bitmap, letter, picture.LetterBox, size), $"seed {seed}: the ink is not {letter}");
            // The test tells letters apart: the same ink read as the next letter fails.
            char other = StrokeLetters.Alphabet[(StrokeLetters.Alphabet.IndexOf(letter) + 1) % 26];
            Assert.False(InkIsLetter(bitmap, other, picture.LetterBox, size), $"seed {seed}: {letter}'s ink also passes as {other}");
            Assert.InRange(picture.LetterBox.Left, 0, size - picture.LetterBox.Width);
            Assert.InRange(picture.LetterBox.Top, 0, size - picture.LetterBox.Height);
        }
        Assert.Equal(26, seen.Count);
        Assert.Equal(PatternScenes.Letter(9).Png, PatternScenes.Letter(9).Png);   // deterministic per seed
        Assert.Throws<ArgumentException>(() => StrokeLetters.Strokes('a'));
    }

    /// <summary>Seven-segment lit segments per digit, written here from the standard display
    /// (a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle).</summary>
    static readonly string[] LitSegments = ["abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc", "abcdefg", "abcdfg"];

    /// <summary>Midpoint of each segment as a fraction of the side: the digit spans 0.3–0.7 across
    /// and 0.15–0.85 down, its middle bar at 0.5.</summary>
    static readonly Dictionary<char, (double X, double Y)> SegmentMidpoints = new()
    {
        ['a'] = (0.5, 0.15), ['b'] = (0.7, 0.325), ['c'] = (0.7, 0.675), ['d'] = (0.5, 0.85),
        ['e'] = (0.3, 0.675), ['f'] = (0.3, 0.325), ['g'] = (0.5, 0.5),
    };

    [Fact]
    public void EachDigitCaptionNamesTheDigitWhoseSegmentsAreLit()
    {
        const int size = 84;
        var seen = new HashSet<int>();
        for (int seed = 0; seed < 60; seed++)
        {
            var picture = PatternScenes.Digit(seed, size);
            int digit = picture.Digit!.Value;
            Assert.Equal($"the digit {digit}", picture.Caption);
            seen.Add(digit);
            using var bitmap = SKBitmap.Decode(picture.Png);
            string lit = string.Concat(SegmentMidpoints.Keys.Where(s =>
                bitmap.GetPixel((int)(SegmentMidpoints[s].X * size), (int)(SegmentMidpoints[s].Y * size)).Red < 100).Order());
            Assert.Equal(LitSegments[digit], lit);
            // The segment sets tell the ten digits apart, so a caption naming any other digit fails.
            Assert.Equal(1, LitSegments.Count(l => l == lit));
        }
        Assert.Equal(10, seen.Count);
        Assert.Equal(PatternScenes.Digit(4).Png, PatternScenes.Digit(4).Png);   // deterministic per seed
        Assert.Equal(PatternScenes.Digit(4).Digit, PatternScenes.Digit(4).Digit);
    }

    [Fact]
    public void PatternQuestionsAnswerWithWhatThePictureShows()
    {
        for (int seed = 0; seed < 10; seed++)
        {
            var (texture, tq) = SceneQuestions.Pattern("texture", seed, 84);
            Assert.Equal(("texture", SceneQuestions.Texture, texture.Texture), (tq.Kind, tq.Question, tq.Answer));
            var (letter, lq) = SceneQuestions.Pattern("letter", seed, 84);
            Assert.Equal(("letter", SceneQuestions.Letter, letter.Letter.ToString()), (lq.Kind, lq.Question, lq.Answer));
            var (digit, dq) = SceneQuestions.Pattern("digit", seed, 84);
            Assert.Equal(("digit", SceneQuestions.Digit, digit.Digit.ToString()), (dq.Kind, dq.Question, dq.Answer));
            Assert.Matches("^[0-9]$", dq.Answer);
        }
        Assert.Throws<ArgumentException>(() => SceneQuestions.Pattern("colour", 0, 84));
        Assert.Equal(0.25, SceneEval.Chance("texture"));
        Assert.Equal(1.0 / 26, SceneEval.Chance("letter"));
        Assert.Equal(0.1, SceneEval.Chance("digit"));
        Assert.Contains("digit", SceneQuestions.Kinds);
        // The tokenizer's texts hold every digit answer, so its merges see the numerals.
        var texts = SceneQuestions.TokenizerTexts(40, 84).ToHashSet();
        Assert.Contains(SceneQuestions.Digit, texts);
        Assert.All(Enumerable.Range(0, 10), d => Assert.Contains(d.ToString(), texts));
    }
}
