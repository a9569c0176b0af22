using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Whetstone.Service.Observability;

/// <summary>GET /metrics in Prometheus's text format: the <see cref="WhetstoneMeter"/> instruments
/// (and nothing of any tenant), read through OpenTelemetry's Prometheus exporter. It needs no
/// key, like /health, so a Prometheus server can scrape every gateway.</summary>
internal static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void AddWhetstoneMetrics(this IServiceCollection services) =>
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(WhetstoneMeter.MeterName)
            // No cached scrape: a scrape right after a call sees it (tests, and the load bench's own checks).
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));

    public static void MapMetricsApi(this IEndpointRouteBuilder app) => app.MapPrometheusScrapingEndpoint(Path);
}
