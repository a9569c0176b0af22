using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.LoadTest;

namespace Whetstone.Cli.Tests.Reliability;

/// <summary>The load test (issue #19) in its bounded CI form: concurrent clients train, sample and
/// use /v1 on a real `whet serve` process (whet-nano, fp32) whose queue is kept small so that some
/// calls are refused with 429 and retried — retries are where a step could be applied twice. Then,
/// independently of the report: the clients' logs as written on disk against each run's step on the
/// server and against /metrics. Long form: <c>WHET_LOAD_CLIENTS=32 WHET_LOAD_SECONDS=600</c>, or
/// `whet load-test` against a server (docs/RELIABILITY.md).</summary>
public class LoadTestTests
{
    [Fact]
    public async Task ConcurrentClientsSeeNoErrorBut429sAndNoOptimizerStepIsLostOrDuplicated()
    {
        int clients = int.TryParse(Environment.GetEnvironmentVariable("WHET_LOAD_CLIENTS"), out var c) ? c : 8;
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("WHET_LOAD_SECONDS"), out var s) ? s : 20;
        using var data = new TempDirectory();
        using var logs = new TempDirectory();
        using var serve = await ServeProcess.StartAsync(CliServer.NanoModelDirectory, data.Path, "--queue-capacity", "6");
        var settings = new LoadTestSettings(serve.Url, ServeProcess.AdminKey, "whet-nano", clients, TimeSpan.FromSeconds(seconds), logs.Path)
        {
            Drain = TimeSpan.FromSeconds(180),
            AdapterEvery = 2,   // a short run still saves adapters and samples them (training API and /v1)
        };

        var report = await LoadTestRun.RunAsync(settings);

        TestContext.Current.SendDiagnosticMessage(report.Format());
        Assert.Empty(report.Failures());
        Assert.Equal(0, report.HttpErrors);
        using var client = ServiceClient.Connect(serve.Url, ServeProcess.AdminKey);
        var files = Directory.GetFiles(logs.Path, "client-*.jsonl").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(clients, files.Length);
        long acknowledged = 0;
        foreach (var file in files)
        {
            var runId = File.ReadLines(file).Select(l => JsonDocument.Parse(l).RootElement)
                .Single(e => e.GetProperty("op").GetString() == "create_run").GetProperty("run").GetString()!;
            var steps = ClientLog.ReadAcknowledgedSteps(file);
            Assert.True(steps.Count > 0, $"{Path.GetFileName(file)} acknowledged no optimizer step");
            Assert.Equal(Enumerable.Range(1, steps.Count).Select(i => (long)i), steps);
            var info = await (await client.GetTrainingClientAsync(runId)).GetInfoAsync();
            Assert.Equal(steps.Count, info.Step);
            acknowledged += steps.Count;
        }
        // A fresh server where only these clients trained: its counter since start is theirs.
        using var http = new HttpClient();
        var exposition = await http.GetStringAsync(new Uri(serve.Url, "/metrics"));
        Assert.Equal(acknowledged, PrometheusCounters.Sum(exposition, ServerMetrics.OptimSteps));
        Assert.Equal(report.Http429, PrometheusCounters.Sum(exposition, ServerMetrics.Rejected));
        Assert.True(report.Operations.Single(o => o.Operation == "v1_chat").Done > 0, "no /v1 chat completion finished");
        Assert.True(report.Operations.Single(o => o.Operation == "sample").Done > 0, "no training-API sample finished");
        Assert.True(report.Operations.Single(o => o.Operation == "v1_chat_adapter").Done > 0, "no /v1 chat completion on a saved adapter finished");

        // The server's other series moved with the traffic (#19's metrics list): trained tokens are
        // exactly the clients' (15 predicted per finished forward_backward, at least one per
        // acknowledged step), every /v1 request and cycle was timed, and the queue was seen
        // non-empty while the clients worked.
        var server = report.Server;
        Assert.Equal(report.TrainedTokens, server.Delta("whetstone_trained_tokens_total"));
        Assert.True(report.TrainedTokens >= 15 * acknowledged, $"{report.TrainedTokens} trained tokens for {acknowledged} steps");
        Assert.True(server.Delta("whetstone_sampled_tokens_total") >= report.SampledTokens, 
            $"server sampled {server.Delta("whetstone_sampled_tokens_total")}, clients counted {report.SampledTokens} (streamed answers not included)");
        int v1Requests = report.Operations.Where(o => o.Operation.StartsWith("v1_", StringComparison.Ordinal)).Sum(o => o.Done);
        Assert.Equal(v1Requests, server.Delta("whetstone_openai_time_to_first_token_seconds_count"));
        Assert.True(server.Delta("whetstone_cycles_total") > 0 && server.Mean("whetstone_cycle_duration_seconds") > 0);
        Assert.Equal(server.Delta("whetstone_cycles_total"), server.Delta("whetstone_cycle_duration_seconds_count"));
        Assert.True(server.Delta("whetstone_adapter_cache_hits_total") + server.Delta("whetstone_adapter_cache_misses_total") >= report.Operations.Single(o => o.Operation == "v1_chat_adapter").Done);
        Assert.True(server.PeakQueueDepth > 0, "the queue-depth gauge never showed queued work during the run");
    }
}
