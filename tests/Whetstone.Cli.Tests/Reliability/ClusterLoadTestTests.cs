using Whetstone.Client;
using Whetstone.Cookbook.LoadTest;

namespace Whetstone.Cli.Tests.Reliability;

/// <summary>The load test against a real cluster (issue #19), bounded: a gateway and two workers,
/// each a `whet serve` process serving whet-nano (fp32), on a throwaway PostgreSQL (membership,
/// grain state, metadata), the workers' queues small (6) so that a burst can be refused with 429,
/// whose count must then agree too (no 429 is guaranteed). The optimizer steps are done on the workers, which serve no HTTP: the gateway's own /metrics counts none of them, and its
/// /metrics/cluster, summed over silos, counts exactly the steps the clients' logs acknowledged
/// (and the 429s they received), so the load test passes. Long form: docs/RELIABILITY.md.</summary>
public sealed class ClusterLoadTestTests : IAsyncDisposable
{
    ClusterProcesses? _cluster;

    [Fact(Timeout = 15 * 60 * 1000)]
    public async Task TheLoadTestPassesAgainstAGatewayAndTwoWorkersWithStepsCountedOnTheWorkers()
    {
        var processes = _cluster = await ClusterProcesses.CreateAsync();
        string cluster = processes.Database;
        int http = ClusterProcesses.FreePort(), primary = ClusterProcesses.FreePortPair();
        // whet-nano besides the tiny model: the load test's prompts are token ids up to 704, past the tiny vocabulary (320).
        await ClusterProcesses.WaitForOutputAsync(processes.Start(cluster, "gateway", primary, primary, "--urls", $"http://127.0.0.1:{http}",
            "--models", CliServer.NanoModelDirectory), "whetstone gateway silo");
        foreach (int port in new[] { ClusterProcesses.FreePortPair(), ClusterProcesses.FreePortPair() })
            await ClusterProcesses.WaitForOutputAsync(processes.Start(cluster, "worker", port, primary, "--queue-capacity", "6", "--dtype", "fp32",
                "--models", CliServer.NanoModelDirectory), "whetstone worker silo");
        var url = new Uri($"http://127.0.0.1:{http}");
        using (var client = ServiceClient.Connect(url, ClusterProcesses.AdminKey))
            await ClusterProcesses.CreateWhenWorkerReportedAsync(client, seed: 1);   // a run with no step: the base model is placed
        await Task.Delay(TimeSpan.FromSeconds(3));   // both workers' reports reach the directory

        using var logs = new TempDirectory();
        var settings = new LoadTestSettings(url, ClusterProcesses.AdminKey, "whet-nano", 6, TimeSpan.FromSeconds(20), logs.Path)
        {
            Drain = TimeSpan.FromSeconds(180),
            AdapterEvery = 2,
        };
        var report = await LoadTestRun.RunAsync(settings);

        TestContext.Current.SendDiagnosticMessage(report.Format());
        Assert.Empty(report.Failures());
        Assert.Equal(ServerMetrics.ClusterRoute, report.Server.Route);
        Assert.True(report.Acknowledged > 0);
        Assert.Equal(report.Acknowledged, report.MetricsOptimSteps);
        Assert.Equal(report.Http429, report.MetricsRejected);

        // Where the steps were counted: on the workers, none on the gateway, two workers and the gateway up.
        using var scrape = new HttpClient();
        var own = await scrape.GetStringAsync(new Uri(url, ServerMetrics.ProcessRoute));
        var all = await scrape.GetStringAsync(new Uri(url, ServerMetrics.ClusterRoute));
        Assert.Equal(0, PrometheusCounters.Sum(own, ServerMetrics.OptimSteps));
        Assert.Equal(3, PrometheusCounters.Sum(all, "whetstone_silo_up"));
        Assert.Equal(report.Acknowledged, PrometheusCounters.Sum(all, ServerMetrics.OptimSteps));
        var stepLines = all.Split('\n').Where(l => l.StartsWith(ServerMetrics.OptimSteps + "{", StringComparison.Ordinal)).ToArray();
        Assert.All(stepLines, l => Assert.DoesNotContain(GatewaySilo(own), l));
    }

    /// <summary>The gateway's silo label, from its own /metrics (which holds only its series).</summary>
    static string GatewaySilo(string exposition)
    {
        var line = exposition.Split('\n').First(l => l.StartsWith("whetstone_silo_up{", StringComparison.Ordinal));
        int start = line.IndexOf("silo=\"", StringComparison.Ordinal) + 6;
        return "silo=\"" + line[start..line.IndexOf('"', start)] + "\"";
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
