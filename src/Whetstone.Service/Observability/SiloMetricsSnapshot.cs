using Orleans;

namespace Whetstone.Service.Observability;

/// <summary>One server's (silo's) series at one moment, already in Prometheus's shape: families
/// named as the Prometheus exporter names them, histograms spread into their _bucket, _sum and
/// _count samples. Small and tensor-free: it crosses silos as a grain call's answer, so that a
/// gateway can serve every silo's series (<see cref="PrometheusExposition"/>).</summary>
/// <param name="Silo">The server's <c>silo</c> label (<see cref="WhetstoneMeter.Silo"/>).</param>
[GenerateSerializer, Immutable, Alias("whetstone.silo_metrics_snapshot")]
public sealed record SiloMetricsSnapshot([property: Id(0)] string Silo, [property: Id(1)] MetricFamily[] Families);

/// <param name="Type">counter, gauge or histogram.</param>
[GenerateSerializer, Immutable, Alias("whetstone.metric_family")]
public sealed record MetricFamily([property: Id(0)] string Name, [property: Id(1)] string Type, [property: Id(2)] string Help,
    [property: Id(3)] MetricSample[] Samples)
{
    /// <summary>Counters and histograms only grow while their silo lives; gauges say how it is now.</summary>
    public bool IsCumulative => Type is "counter" or "histogram";
}

/// <param name="Labels">The label set as written between the braces (<c>silo="h:1",base_model="m"</c>), empty for none.</param>
[GenerateSerializer, Immutable, Alias("whetstone.metric_sample")]
public sealed record MetricSample([property: Id(0)] string Name, [property: Id(1)] string Labels, [property: Id(2)] double Value);
