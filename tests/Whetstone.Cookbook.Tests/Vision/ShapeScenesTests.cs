using SkiaSharp;
using Whetstone.Cookbook.Vision;

namespace Whetstone.Cookbook.Tests.Vision;

public class ShapeScenesTests
{
    [Fact]
    public void CaptionsSayWhatIsDrawnWhere()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var scene = ShapeScenes.Shapes(seed);
            using var bitmap = SKBitmap.Decode(scene.Png);
            var colour = ShapeScenes.Colours.Single(c => c.Name == scene.Shapes[0].Colour).Colour;
            // Each shape's centre has its colour; each empty cell's centre is white.
            for (int cell = 0; cell < 9; cell++)
            {
                float x = (cell % 3 + 0.5f) * 112 / 3f, y = (cell / 3 + 0.5f) * 112 / 3f;
                var pixel = bitmap.GetPixel((int)x, (int)y + 2);
                bool drawn = scene.Shapes.Any(s => Math.Abs(s.X - x) < 1 && Math.Abs(s.Y - y) < 1);
                Assert.Equal(drawn ? colour : SKColors.White, pixel);
            }
            Assert.StartsWith(new[] { "one", "two", "three" }[scene.Shapes.Count - 1] + " " + scene.Shapes[0].Colour, scene.Caption);
            Assert.All(scene.Shapes, s => Assert.Contains("at the " + s.Position, scene.Caption));
        }
        Assert.Equal(ShapeScenes.Shapes(3).Png, ShapeScenes.Shapes(3).Png);   // deterministic
    }

    [Fact]
    public void DigitsDifferFromEachOther()
    {
        var pngs = Enumerable.Range(0, 10).Select(d => ShapeScenes.Digit(d)).ToArray();
        Assert.Equal("the digit 7", pngs[7].Caption);
        Assert.Equal(10, pngs.Select(p => Convert.ToBase64String(p.Png)).Distinct().Count());
    }

    [Fact]
    public void HeldOutKindsAreDrawnAtTheirCellsAndDifferFromEachOther()
    {
        var pngs = new List<string>();
        foreach (var kind in ShapeScenes.HeldOutKinds)
        {
            var scene = ShapeScenes.Shapes(4, 84, [kind]);
            Assert.All(scene.Shapes, s => Assert.Equal(kind, s.Kind));
            using var bitmap = SKBitmap.Decode(scene.Png);
            var colour = ShapeScenes.Colours.Single(c => c.Name == scene.Shapes[0].Colour).Colour;
            Assert.All(scene.Shapes, s => Assert.Equal(colour, bitmap.GetPixel((int)s.X, (int)s.Y)));
            pngs.Add(Convert.ToBase64String(scene.Png));
        }
        Assert.Equal(ShapeScenes.HeldOutKinds.Length, pngs.Distinct().Count());
        Assert.Throws<ArgumentException>(() => ShapeScenes.Shapes(4, 84, ["blob"]));
    }
}
