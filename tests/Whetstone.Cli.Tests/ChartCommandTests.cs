namespace Whetstone.Cli.Tests;

/// <summary>`whet chart`: a PNG of the named metrics of a metrics.jsonl; a metric no line has is a
/// bad argument (2), a metrics file that is not there is exit code 3.</summary>
public class ChartCommandTests
{
    [Fact]
    public void DrawsThePngOrRefusesNamingWhatIsMissing()
    {
        using var temp = new TempDirectory();
        File.WriteAllLines(temp["metrics.jsonl"], Enumerable.Range(1, 5).Select(s => $"{{\"step\": {s}, \"loss\": {1.0 / s}, \"reward\": {0.1 * s}}}"));
        Assert.Equal($"wrote {temp["chart.png"]}\n", Whet.Succeed("chart", temp["metrics.jsonl"], "-o", temp["chart.png"], "-y", "loss", "reward"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(temp["chart.png"])[..4]);

        var absent = Whet.Run("chart", temp["metrics.jsonl"], "-o", temp["none.png"], "-y", "entropy");
        Assert.Equal(2, absent.ExitCode);
        Assert.Equal($"error: no line of '{temp["metrics.jsonl"]}' has any of: entropy", absent.Stderr.TrimEnd());
        Assert.False(File.Exists(temp["none.png"]));

        var missing = Whet.Run("chart", temp["nowhere.jsonl"], "-o", temp["x.png"]);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("nowhere.jsonl", missing.Stderr);
    }
}
