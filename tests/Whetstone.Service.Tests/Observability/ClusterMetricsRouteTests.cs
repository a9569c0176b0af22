using System.Net;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Observability;

/// <summary>/metrics/cluster on a server that is no silo: its own series only, named and valued
/// as OpenTelemetry's Prometheus exporter writes them at /metrics (the names a cluster's gateway
/// serves for its workers are the ones dashboards already use), with one HELP and TYPE per family.</summary>
public class ClusterMetricsRouteTests
{
    [Fact]
    public async Task ItsCountersAndHistogramsEqualThoseOfMetricsForThisServer()
    {
        await using var server = await TestServers.StartAsync();
        var key = await TestServers.KeyAsync(server, "olga");
        using var client = server.Client(key);
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: 1);
        for (int step = 0; step < 2; step++)
        {
            await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy(Enumerable.Range(3 + step, 8).ToArray())], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.01 })).ResultAsync();
        }
        string silo = server.Core.Context.Meter.Silo;
        using var http = server.Raw(null);   // no key, as Prometheus scrapes

        // Until the engine's hand-back has reached the meter (bounded), then both routes at rest.
        PrometheusText cluster;
        string text;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            var response = await http.GetAsync("/metrics/cluster");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
            text = await response.Content.ReadAsStringAsync();
            cluster = PrometheusText.Parse(text);
        } while (cluster.Sum("whetstone_optim_steps_total") < 2 && DateTime.UtcNow < deadline);
        var own = PrometheusText.Parse(await http.GetStringAsync("/metrics"));

        Assert.Equal(2, cluster.Sum("whetstone_optim_steps_total", ("silo", silo)));
        Assert.Equal(7 + 7, cluster.Sum("whetstone_trained_tokens_total", ("silo", silo)));
        Assert.All(cluster.Samples, s => Assert.Equal(silo, s.Labels["silo"]));
        Assert.Equal(1, cluster.Sum("whetstone_silo_up"));
        var cumulative = cluster.Samples.Where(s => s.Name.EndsWith("_total") || s.Name.EndsWith("_bucket") || s.Name.EndsWith("_sum") || s.Name.EndsWith("_count")).ToList();
        Assert.Contains(cumulative, s => s.Name == "whetstone_cycle_duration_seconds_bucket");
        foreach (var sample in cumulative)
        {
            // The exporter may add its own scope labels (otel_scope_*); every label of ours must match.
            var match = own.Samples.Where(o => o.Name == sample.Name && sample.Labels.All(l => o.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
            Assert.True(match.Count == 1, $"{sample.Name}{{{string.Join(",", sample.Labels)}}}: {match.Count} samples at /metrics");
            Assert.Equal(match[0].Value, sample.Value);
        }
        foreach (var family in cluster.Samples.Select(s => s.Name).Where(n => !n.EndsWith("_bucket") && !n.EndsWith("_sum") && !n.EndsWith("_count")).Distinct())
            Assert.Single(text.Split('\n'), l => l.StartsWith($"# TYPE {family} "));
    }
}
