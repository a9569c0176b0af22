using SkiaSharp;
using Whetstone.Cookbook.Recipes;

namespace Whetstone.Cookbook.Tests.Recipes;

public class MetricsChartTests
{
    static string TempDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-cookbook-tests", "chart-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    [Fact]
    public void ChartIsAPngWithOneColouredLinePerMetric()
    {
        var directory = TempDirectory();
        var metrics = Path.Combine(directory, "metrics.jsonl");
        File.WriteAllLines(metrics, Enumerable.Range(1, 60).Select(step =>
            step % 10 == 0
                ? $$"""{"step": {{step}}, "loss": {{4.0 / step}}, "held_out_nll": {{5.0 / step}}}"""
                : $$"""{"step": {{step}}, "loss": {{4.0 / step}}}"""));
        var png = Path.Combine(directory, "loss.png");

        Assert.True(MetricsChart.WritePng(metrics, png, "SFT", ["loss", "held_out_nll"]));

        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal(800, bitmap.Width);
        Assert.Equal(450, bitmap.Height);
        // Two series in two distinct saturated colours (the palette's first two), on a white plot.
        var colours = new HashSet<SKColor>();
        for (int y = 0; y < bitmap.Height; y += 2)
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                int spread = Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue));
                if (spread > 100) colours.Add(new SKColor((byte)(c.Red / 32 * 32), (byte)(c.Green / 32 * 32), (byte)(c.Blue / 32 * 32)));
            }
        Assert.True(colours.Count >= 2, $"expected two line colours, found {colours.Count}");
        Assert.Empty(Directory.GetFiles(directory, "*.tmp.png"));
    }

    [Fact]
    public void NothingIsWrittenWhenNoLineHasTheMetrics()
    {
        var directory = TempDirectory();
        var metrics = Path.Combine(directory, "metrics.jsonl");
        File.WriteAllLines(metrics, ["""{"step": 1, "reward": 0.5}"""]);
        var png = Path.Combine(directory, "loss.png");
        Assert.False(MetricsChart.WritePng(metrics, png, "SFT", ["loss"]));
        Assert.False(File.Exists(png));
    }
}
