using System.Globalization;

namespace Whetstone.Cookbook.LoadTest;

/// <summary>Reads counters from a Prometheus text exposition (GET /metrics): the sum of one
/// metric's samples over all its label sets (every silo and base model of the server or cluster).</summary>
public static class PrometheusCounters
{
    public static double Sum(string exposition, string metric)
    {
        double sum = 0;
        foreach (var raw in exposition.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(metric, StringComparison.Ordinal)) continue;
            // The name must end where the labels or the value start: whetstone_x_total, not whetstone_x_total_more.
            if (line.Length == metric.Length || (line[metric.Length] != '{' && line[metric.Length] != ' ')) continue;
            int valueStart = line[metric.Length] == '{' ? EndOfLabels(line, metric.Length) : metric.Length;
            var parts = line[valueStart..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            sum += double.Parse(parts[0], CultureInfo.InvariantCulture);
        }
        return sum;
    }

    /// <summary>The index just past the '}' closing the label set that opens at <paramref name="open"/>:
    /// label values are quoted and may hold braces themselves (a route template such as /runs/{id}).</summary>
    static int EndOfLabels(string line, int open)
    {
        bool quoted = false;
        for (int i = open + 1; i < line.Length; i++)
        {
            if (quoted && line[i] == '\\') i++;
            else if (line[i] == '"') quoted = !quoted;
            else if (!quoted && line[i] == '}') return i + 1;
        }
        throw new FormatException($"Unclosed label set in '{line}'.");
    }

    /// <summary>Scrapes until two scrapes a second apart agree on every named counter (work finished
    /// just before may still be on its way into the meter), at most <paramref name="tries"/> times.</summary>
    public static async Task<IReadOnlyDictionary<string, double>> ScrapeSettledAsync(HttpClient http, Uri endpoint, IReadOnlyList<string> metrics,
        int tries = 10, CancellationToken cancellationToken = default)
    {
        Dictionary<string, double>? last = null;
        for (int i = 0; ; i++)
        {
            var text = await http.GetStringAsync(endpoint, cancellationToken).ConfigureAwait(false);
            var now = metrics.ToDictionary(m => m, m => Sum(text, m));
            if (last is not null && metrics.All(m => last[m] == now[m]) || i >= tries) return now;
            last = now;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }
}
