using System.Globalization;
using System.Text.RegularExpressions;

namespace Whetstone.Service.Tests.Observability;

/// <summary>Prometheus's text exposition format, read independently of the exporter that wrote it:
/// one sample per line, <c>name{label="value",…} number [timestamp]</c>, comments start with '#'.</summary>
internal sealed partial class PrometheusText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public IReadOnlyList<Sample> Samples { get; }

    PrometheusText(IReadOnlyList<Sample> samples) => Samples = samples;

    public static PrometheusText Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in Label().Matches(m.Groups["labels"].Value))
                labels[l.Groups[1].Value] = Regex.Unescape(l.Groups[2].Value);
            samples.Add(new Sample(m.Groups["name"].Value, labels, ParseValue(m.Groups["value"].Value)));
        }
        return new PrometheusText(samples);
    }

    static double ParseValue(string v) => v switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(v, CultureInfo.InvariantCulture),
    };

    /// <summary>The sum of the samples named <paramref name="name"/> whose labels include all of
    /// <paramref name="labels"/> (0 when there is none: a counter not yet incremented is absent).</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);

    public bool Has(string name, params (string Key, string Value)[] labels) =>
        Samples.Any(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+-?\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
