using System.Globalization;
using System.Text;

namespace Whetstone.Service.Observability;

/// <summary>Writes silos' snapshots as one Prometheus text exposition (format 0.0.4): each family
/// once, with its HELP and TYPE, followed by the samples of every silo (their <c>silo</c> label
/// keeps them apart, so nothing is summed here).</summary>
internal static class PrometheusExposition
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(IEnumerable<SiloMetricsSnapshot> snapshots)
    {
        var families = new Dictionary<string, (MetricFamily First, List<MetricSample> Samples)>(StringComparer.Ordinal);
        foreach (var family in snapshots.SelectMany(s => s.Families))
        {
            if (!families.TryGetValue(family.Name, out var merged)) families[family.Name] = merged = (family, []);
            merged.Samples.AddRange(family.Samples);
        }
        var text = new StringBuilder();
        foreach (var (name, (first, samples)) in families.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(first.Help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(first.Type).Append('\n');
            foreach (var sample in samples)
            {
                text.Append(sample.Name);
                if (sample.Labels.Length > 0) text.Append('{').Append(sample.Labels).Append('}');
                text.Append(' ').Append(Number(sample.Value)).Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary>A metric or label name: letters, digits and underscores (dots and the rest become underscores).</summary>
    public static string Name(string name)
    {
        var text = new StringBuilder(name.Length);
        foreach (char c in name) text.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        if (text.Length > 0 && char.IsAsciiDigit(text[0])) text.Insert(0, '_');
        return text.ToString();
    }

    public static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
