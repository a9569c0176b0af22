using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Observability;

/// <summary>GET /metrics in Prometheus's text format: the <see cref="WhetstoneMeter"/> instruments
/// of this process (and nothing of any tenant), read through OpenTelemetry's Prometheus exporter.
/// GET /metrics/cluster: the series of every live silo of the cluster, each under its own
/// <c>silo</c> label, gathered by this gateway (a worker serves no HTTP) — scrape one gateway's
/// /metrics/cluster, or every process's /metrics, not both. Neither needs a key, like /health,
/// so a Prometheus server can scrape them.</summary>
internal static class MetricsEndpoint
{
    public const string Path = "/metrics";
    public const string ClusterPath = "/metrics/cluster";

    public static void AddWhetstoneMetrics(this IServiceCollection services, ServiceCore core)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(WhetstoneMeter.MeterName)
            // No cached scrape: a scrape right after a call sees it (tests, and the load bench's own checks).
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        services.AddSingleton<IClusterMetrics>(_ => core.ClusterMetrics);   // resolved late: a cluster sets it after building
    }

    public static void MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint(Path);
        app.MapGet(ClusterPath, async (IClusterMetrics cluster, HttpContext http) =>
            Results.Text(PrometheusExposition.Write(await cluster.SnapshotsAsync(http.RequestAborted)), PrometheusExposition.ContentType));
    }
}
