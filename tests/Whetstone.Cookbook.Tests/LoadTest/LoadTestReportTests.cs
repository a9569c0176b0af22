using Whetstone.Cookbook.LoadTest;

namespace Whetstone.Cookbook.Tests.LoadTest;

/// <summary>The load test's bookkeeping without a server: reading counters out of a Prometheus
/// exposition as the OpenTelemetry exporter writes it, and what counts as lost, duplicated and failed.</summary>
public class LoadTestReportTests
{
    const string Exposition = """
        # TYPE whetstone_optim_steps_total counter
        # HELP whetstone_optim_steps_total Optimizer steps applied
        whetstone_optim_steps_total{otel_scope_name="Whetstone",base_model="whet-nano",silo="h:1"} 17 1733500000000
        whetstone_optim_steps_total{otel_scope_name="Whetstone",base_model="tiny",silo="h:1"} 5 1733500000000
        whetstone_optim_steps_total_more{silo="h:1"} 1000
        whetstone_http_rejected_total{route="/api/v1/training_runs/{run_id}/forward_backward",code="429",note="a \"quoted\" }"} 3
        whetstone_http_rejected_total{route="/v1/chat/completions",code="429"} 2.5e1
        whetstone_silo_up 1
        """;

    [Fact]
    public void CountersAreSummedOverEveryLabelSetAndOnlyForTheirOwnName()
    {
        Assert.Equal(22, PrometheusCounters.Sum(Exposition, "whetstone_optim_steps_total"));
        Assert.Equal(28, PrometheusCounters.Sum(Exposition, "whetstone_http_rejected_total"));
        Assert.Equal(1, PrometheusCounters.Sum(Exposition, "whetstone_silo_up"));
        Assert.Equal(0, PrometheusCounters.Sum(Exposition, "whetstone_absent_total"));
    }

    static LoadTestReport Report(IReadOnlyList<ClientSteps> clients, Dictionary<int, long> statuses, double metricsSteps, double metricsRejected) =>
        new(new LoadTestSettings(new Uri("http://127.0.0.1:1"), "k", "m", clients.Count, TimeSpan.FromSeconds(10), "."),
            TimeSpan.FromSeconds(10), clients, statuses, 0, 0, [], [], 0, 0,
            new ServerMetrics(new Dictionary<string, double> { [ServerMetrics.OptimSteps] = metricsSteps, [ServerMetrics.Rejected] = metricsRejected }, 0));

    [Fact]
    public void StepsAppliedFewerOrMoreTimesThanAcknowledgedAreLostOrDuplicated()
    {
        var clients = new[]
        {
            new ClientSteps(0, "a", 5, Acknowledged: 5, ServerStep: 5, InDoubt: 0, OutOfSequence: 0),
            new ClientSteps(1, "b", 5, Acknowledged: 5, ServerStep: 3, InDoubt: 0, OutOfSequence: 0),
            new ClientSteps(2, "c", 5, Acknowledged: 4, ServerStep: 6, InDoubt: 0, OutOfSequence: 0),
        };
        var report = Report(clients, new() { [200] = 40 }, metricsSteps: 14, metricsRejected: 0);
        Assert.Equal(2, report.Lost);
        Assert.Equal(2, report.Duplicated);
        Assert.False(report.Passed);
        Assert.Contains(report.Failures(), f => f.StartsWith("2 optimizer steps lost", StringComparison.Ordinal));
        Assert.Contains(report.Failures(), f => f.StartsWith("2 optimizer steps duplicated", StringComparison.Ordinal));
    }

    [Fact]
    public void Only429sAreForgivenAndTheServersCountersMustAgreeWithTheClients()
    {
        var clients = new[] { new ClientSteps(0, "a", 3, 3, 3, 0, 0) };
        Assert.True(Report(clients, new() { [200] = 10, [202] = 4, [429] = 7 }, metricsSteps: 3, metricsRejected: 7).Passed);

        var with500 = Report(clients, new() { [200] = 10, [500] = 1 }, 3, 0);
        Assert.Equal(1, with500.HttpErrors);
        Assert.False(with500.Passed);
        Assert.False(Report(clients, new() { [200] = 10, [429] = 7 }, 3, metricsRejected: 6).Passed);
        Assert.False(Report(clients, new() { [200] = 10 }, metricsSteps: 4, 0).Passed);
        Assert.False(Report([new ClientSteps(0, "a", 3, 3, 3, InDoubt: 1, 0)], new() { [200] = 10 }, 3, 0).Passed);
    }
}
