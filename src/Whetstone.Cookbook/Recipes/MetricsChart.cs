using System.Text.Json;

namespace Whetstone.Cookbook.Recipes;

/// <summary>PNG charts of a recipe's metrics.jsonl: one line per named metric against the step.
/// Drawn from the file rather than from memory so that a resumed run's chart shows its whole
/// history. Lines missing a metric (held-out NLL is measured every few steps) are skipped for
/// that metric only.</summary>
public static class MetricsChart
{
    /// <summary>Writes <paramref name="pngPath"/>; returns false (writing nothing) when no line of
    /// the file has any of the metrics.</summary>
    public static bool WritePng(string metricsPath, string pngPath, string title, IReadOnlyList<string> metrics, string xMetric = "step", string yLabel = "value")
    {
        var series = metrics.ToDictionary(m => m, _ => (Xs: new List<double>(), Ys: new List<double>()));
        foreach (var line in File.ReadLines(metricsPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var record = JsonDocument.Parse(line);
            if (!record.RootElement.TryGetProperty(xMetric, out var x) || x.ValueKind != JsonValueKind.Number) continue;
            foreach (var name in metrics)
            {
                if (!record.RootElement.TryGetProperty(name, out var y) || y.ValueKind != JsonValueKind.Number) continue;
                double value = y.GetDouble();
                if (!double.IsFinite(value)) continue;
                series[name].Xs.Add(x.GetDouble());
                series[name].Ys.Add(value);
            }
        }
        if (series.Values.All(s => s.Xs.Count == 0)) return false;

        var plot = new ScottPlot.Plot();
        foreach (var (name, (xs, ys)) in series)
        {
            if (xs.Count == 0) continue;
            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = xs.Count <= 40 ? 5 : 0;
        }
        plot.Title(title);
        plot.XLabel(xMetric);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        var directory = Path.GetDirectoryName(Path.GetFullPath(pngPath))!;
        Directory.CreateDirectory(directory);
        // Written next to the target and moved into place: a reader never sees half a PNG.
        var staging = Path.Combine(directory, $".{Path.GetFileName(pngPath)}.{Guid.NewGuid():N}.tmp.png");
        plot.SavePng(staging, 800, 450);
        File.Move(staging, pngPath, overwrite: true);
        return true;
    }
}
