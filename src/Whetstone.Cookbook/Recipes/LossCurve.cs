using System.Globalization;
using System.Text;

namespace Whetstone.Cookbook.Recipes;

/// <summary>A loss curve as a small self-contained SVG (any browser shows it; no native plotting
/// library needed on a headless server).</summary>
public static class LossCurve
{
    public static void WriteSvg(string path, IReadOnlyList<(int Step, double Loss)> points)
    {
        const double width = 640, height = 360, margin = 48;
        double minStep = points.Min(p => p.Step), maxStep = Math.Max(minStep + 1, points.Max(p => p.Step));
        double maxLoss = points.Max(p => p.Loss), minLoss = Math.Min(0, points.Min(p => p.Loss));
        string X(double step) => (margin + (step - minStep) / (maxStep - minStep) * (width - 2 * margin)).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double loss) => (height - margin - (loss - minLoss) / Math.Max(1e-9, maxLoss - minLoss) * (height - 2 * margin)).ToString("F1", CultureInfo.InvariantCulture);
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.Append($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.Append($"<line x1=\"{margin}\" y1=\"{height - margin}\" x2=\"{width - margin}\" y2=\"{height - margin}\" stroke=\"black\"/>");
        svg.Append($"<line x1=\"{margin}\" y1=\"{margin}\" x2=\"{margin}\" y2=\"{height - margin}\" stroke=\"black\"/>");
        svg.Append($"<text x=\"{width / 2}\" y=\"{height - 12}\" text-anchor=\"middle\">step ({minStep}–{maxStep})</text>");
        svg.Append($"<text x=\"12\" y=\"{margin - 12}\">loss per token (max {maxLoss.ToString("F3", CultureInfo.InvariantCulture)})</text>");
        svg.Append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
        foreach (var (step, loss) in points) svg.Append(X(step)).Append(',').Append(Y(loss)).Append(' ');
        svg.Append("\"/></svg>");
        File.WriteAllText(path, svg.ToString());
    }
}
