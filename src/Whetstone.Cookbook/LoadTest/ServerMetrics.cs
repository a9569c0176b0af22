namespace Whetstone.Cookbook.LoadTest;

/// <summary>The server's own view of a load test, from its metrics (<see cref="Route"/>): how far
/// each counter (and each histogram's sum and count) moved over the run, summed over every silo,
/// and the deepest queue seen while it ran (the gauge is sampled every few seconds; after the run
/// it is back to 0).</summary>
public sealed record ServerMetrics(IReadOnlyDictionary<string, double> Deltas, double PeakQueueDepth)
{
    /// <summary>Every silo's series, gathered by the gateway: a cluster's workers serve no HTTP.</summary>
    public const string ClusterRoute = "/metrics/cluster";
    /// <summary>This process's series only (a server without /metrics/cluster).</summary>
    public const string ProcessRoute = "/metrics";

    /// <summary>Where the figures were read.</summary>
    public string Route { get; init; } = ClusterRoute;

    /// <summary>The route that holds every silo's series: /metrics/cluster, or /metrics on a server
    /// that has no such route (404), which then is all of it.</summary>
    public static async Task<string> RouteAsync(HttpClient http, Uri server)
    {
        using var response = await http.GetAsync(new Uri(server, ClusterRoute)).ConfigureAwait(false);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return ProcessRoute;
        response.EnsureSuccessStatusCode();
        return ClusterRoute;
    }

    public const string OptimSteps = "whetstone_optim_steps_total";
    public const string Rejected = "whetstone_http_rejected_total";
    public const string QueueDepth = "whetstone_queue_depth";

    /// <summary>The series whose movement a load test reports.</summary>
    public static readonly IReadOnlyList<string> Counted =
    [
        OptimSteps, Rejected, "whetstone_trained_tokens_total", "whetstone_sampled_tokens_total",
        "whetstone_cycles_total", "whetstone_cycle_duration_seconds_sum", "whetstone_cycle_duration_seconds_count",
        "whetstone_openai_time_to_first_token_seconds_sum", "whetstone_openai_time_to_first_token_seconds_count",
        "whetstone_openai_inter_token_latency_seconds_sum", "whetstone_openai_inter_token_latency_seconds_count",
        "whetstone_adapter_cache_hits_total", "whetstone_adapter_cache_misses_total",
    ];

    public double Delta(string series) => Deltas.TryGetValue(series, out var d) ? d : 0;

    /// <summary>Mean of a histogram over the run (its sum's delta over its count's), NaN without samples.</summary>
    public double Mean(string histogram) =>
        Delta(histogram + "_count") is > 0 and var n ? Delta(histogram + "_sum") / n : double.NaN;

    public static IReadOnlyDictionary<string, double> Subtract(IReadOnlyDictionary<string, double> after, IReadOnlyDictionary<string, double> before) =>
        after.ToDictionary(a => a.Key, a => a.Value - (before.TryGetValue(a.Key, out var b) ? b : 0));

    /// <summary>Samples the queue-depth gauge (summed over base models) every <paramref name="every"/>
    /// until <paramref name="stop"/>, returning the largest value seen. A failed scrape is skipped:
    /// the clients' own counts, not this, decide whether the server answered.</summary>
    public static async Task<double> PeakQueueDepthAsync(HttpClient http, Uri endpoint, TimeSpan every, CancellationToken stop)
    {
        double peak = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var text = await http.GetStringAsync(endpoint, stop).ConfigureAwait(false);
                peak = Math.Max(peak, PrometheusCounters.Sum(text, QueueDepth));
                await Task.Delay(every, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (HttpRequestException) { }
        }
        return peak;
    }
}
