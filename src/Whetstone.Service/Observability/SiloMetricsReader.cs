using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Whetstone.Service.Observability;

/// <summary>Reads one server's series on demand, through its own OpenTelemetry meter provider
/// (cumulative, collected only when asked): what a worker silo, which serves no HTTP, hands to a
/// gateway (<c>/metrics/cluster</c>). The Whetstone meter is one per process, so the provider sees
/// every server of the process; only the points tagged with this server's silo are kept, which is
/// also why a process that is gateway and worker at once is counted once.</summary>
internal sealed class SiloMetricsReader : IDisposable
{
    readonly string _silo;
    readonly SnapshotExporter _exporter;
    readonly BaseExportingMetricReader _reader;
    readonly MeterProvider _provider;
    readonly Lock _collecting = new();

    public SiloMetricsReader(string silo)
    {
        _silo = silo;
        _exporter = new SnapshotExporter(silo);
        _reader = new BaseExportingMetricReader(_exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
        _provider = Sdk.CreateMeterProviderBuilder().AddMeter(WhetstoneMeter.MeterName).AddReader(_reader).Build()!;
    }

    public SiloMetricsSnapshot Snapshot()
    {
        lock (_collecting)
        {
            _exporter.Families.Clear();
            _reader.Collect();
            return new SiloMetricsSnapshot(_silo, [.. _exporter.Families]);
        }
    }

    public void Dispose() => _provider.Dispose();

    /// <summary>Turns each collected metric into a Prometheus family, named as OpenTelemetry's
    /// Prometheus exporter names it (so /metrics and /metrics/cluster agree): dots become
    /// underscores, the unit "s" becomes a _seconds suffix, annotations such as {token} add
    /// nothing, and counters end in _total.</summary>
    sealed class SnapshotExporter(string silo) : BaseExporter<Metric>
    {
        public List<MetricFamily> Families { get; } = [];

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                var family = Convert(metric);
                if (family.Samples.Length > 0) Families.Add(family);
            }
            return ExportResult.Success;
        }

        MetricFamily Convert(Metric metric)
        {
            string name = PrometheusName(metric.Name, metric.Unit);
            var samples = new List<MetricSample>();
            string type = metric.MetricType switch
            {
                MetricType.LongSum or MetricType.DoubleSum => "counter",
                MetricType.Histogram => "histogram",
                _ => "gauge",
            };
            if (type == "counter") name += "_total";
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var labels = Labels(point.Tags, out string? pointSilo);
                if (pointSilo != silo) continue;
                switch (metric.MetricType)
                {
                    case MetricType.LongSum or MetricType.LongSumNonMonotonic: samples.Add(new(name, labels, point.GetSumLong())); break;
                    case MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic: samples.Add(new(name, labels, point.GetSumDouble())); break;
                    case MetricType.LongGauge: samples.Add(new(name, labels, point.GetGaugeLastValueLong())); break;
                    case MetricType.DoubleGauge: samples.Add(new(name, labels, point.GetGaugeLastValueDouble())); break;
                    case MetricType.Histogram:
                        long cumulative = 0;
                        foreach (var bucket in point.GetHistogramBuckets())
                        {
                            cumulative += bucket.BucketCount;
                            string le = double.IsPositiveInfinity(bucket.ExplicitBound) ? "+Inf" : PrometheusExposition.Number(bucket.ExplicitBound);
                            samples.Add(new(name + "_bucket", (labels.Length == 0 ? "" : labels + ",") + $"le=\"{le}\"", cumulative));
                        }
                        samples.Add(new(name + "_sum", labels, point.GetHistogramSum()));
                        samples.Add(new(name + "_count", labels, point.GetHistogramCount()));
                        break;
                }
            }
            return new MetricFamily(name, type, metric.Description ?? "", [.. samples]);
        }

        static string Labels(ReadOnlyTagCollection tags, out string? silo)
        {
            silo = null;
            var text = new StringBuilder();
            foreach (var tag in tags)
            {
                string value = System.Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";
                if (tag.Key == "silo") silo = value;
                if (text.Length > 0) text.Append(',');
                text.Append(PrometheusExposition.Name(tag.Key)).Append("=\"").Append(PrometheusExposition.Escape(value)).Append('"');
            }
            return text.ToString();
        }
    }

    internal static string PrometheusName(string name, string? unit)
    {
        string prometheus = PrometheusExposition.Name(name);
        string suffix = unit switch
        {
            null or "" or "1" => "",
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            _ when unit.StartsWith('{') => "",
            _ => PrometheusExposition.Name(unit),
        };
        return suffix.Length == 0 || prometheus.EndsWith("_" + suffix, StringComparison.Ordinal) ? prometheus : prometheus + "_" + suffix;
    }
}
