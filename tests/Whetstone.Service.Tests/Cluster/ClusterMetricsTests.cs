using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Tests.Observability;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>A gateway's /metrics/cluster against a gateway and two workers: optimizer steps done
/// on a worker appear under that worker's silo label with the exact count (and on no other silo,
/// the gateway included), every silo reports its health, and after the worker stops its counters
/// stay at what it did (silo_up 0, its gauges gone) while the run's later steps count on the survivor.</summary>
[Collection(ClusterCollection.Name)]
public class ClusterMetricsTests
{
    static IReadOnlyList<Datum> Batch(int step) =>
        [Datums.ForCrossEntropy(Enumerable.Range(0, 10).Select(i => (i * 5 + step * 3) % 200 + 5).ToArray())];

    static async Task StepAsync(TrainingClient run, int step)
    {
        await (await run.ForwardBackwardAsync(Batch(step), "cross_entropy")).ResultAsync();
        await (await run.OptimStepAsync(new AdamParams { LearningRate = 1e-3 })).ResultAsync();
    }

    static async Task<(PrometheusText Parsed, string Text)> ScrapeAsync(TestWorkers cluster)
    {
        using var http = await cluster.Gateway.InMemoryClientAsync("scraper");
        var text = await Bounded.WithinAsync(ct => http.GetStringAsync("/metrics/cluster", ct), TimeSpan.FromSeconds(60), "GET /metrics/cluster");
        return (PrometheusText.Parse(text), text);
    }

    /// <summary>Counters are recorded as a worker hands a call back, racing the caller's wake-up:
    /// scrape until the steps reach <paramref name="steps"/> (bounded), the caller then asserts exactly.</summary>
    static async Task<(PrometheusText Parsed, string Text)> ScrapeUntilStepsAsync(TestWorkers cluster, double steps)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var scrape = await ScrapeAsync(cluster);
            if (scrape.Parsed.Sum("whetstone_optim_steps_total") >= steps || DateTime.UtcNow > deadline) return scrape;
            await Task.Delay(100);
        }
    }

    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task StepsOnAWorkerAreCountedUnderItsSiloOnceAndSurviveItsStop()
    {
        await using var cluster = await TestWorkers.StartAsync([TestWorkers.ModelA], [TestWorkers.ModelA]);
        using var client = await cluster.ClientAsync("mallory");
        string gateway = cluster.Gateway.Context.Meter.Silo;
        var workers = cluster.WorkerMeterSilos.ToArray();
        var run = await client.CreateLoraTrainingClientAsync(TestWorkers.ModelA, rank: 2, seed: 4);
        for (int s = 0; s < 3; s++) await StepAsync(run, s);
        await (await run.SaveStateAsync("after-3")).ResultAsync();
        for (int s = 3; s < 5; s++) await StepAsync(run, s);

        var first = await cluster.WhereAsync(TestWorkers.ModelA, run.RunId);
        string firstSilo = cluster.CoreOf(first).Context.Meter.Silo;
        string other = workers.Single(w => w != firstSilo);
        var (live, text) = await ScrapeUntilStepsAsync(cluster, 5);
        Assert.Equal(5, live.Sum("whetstone_optim_steps_total"));
        Assert.Equal(5, live.Sum("whetstone_optim_steps_total", ("silo", firstSilo), ("base_model", TestWorkers.ModelA)));
        Assert.Equal(0, live.Sum("whetstone_optim_steps_total", ("silo", gateway)));
        Assert.Equal(0, live.Sum("whetstone_optim_steps_total", ("silo", other)));
        // 5 forward_backward passes of one 10-token sequence: 9 predicted tokens each.
        Assert.Equal(5 * 9, live.Sum("whetstone_trained_tokens_total", ("silo", firstSilo)));
        // Per-silo health: all three answer; the workers' queues are observed, the gateway hosts no model.
        foreach (var silo in workers.Prepend(gateway)) Assert.Equal(1, live.Sum("whetstone_silo_up", ("silo", silo)));
        Assert.Equal(3, live.Samples.Count(s => s.Name == "whetstone_silo_up"));
        Assert.True(live.Has("whetstone_queue_depth", ("silo", firstSilo), ("base_model", TestWorkers.ModelA)));
        Assert.Equal(0, live.Sum("whetstone_silo_base_models", ("silo", gateway)));
        Assert.Equal(live.Sum("whetstone_cycles_total", ("silo", firstSilo)), live.Sum("whetstone_cycle_duration_seconds_count", ("silo", firstSilo)));
        Assert.Equal(live.Sum("whetstone_cycles_total", ("silo", firstSilo)), live.Sum("whetstone_cycle_duration_seconds_bucket", ("silo", firstSilo), ("le", "+Inf")));
        // One family each, whatever the number of silos (Prometheus refuses a repeated TYPE).
        Assert.Single(text.Split('\n'), l => l == "# TYPE whetstone_optim_steps_total counter");

        await cluster.StopAsync(first);
        var stopped = (await ScrapeAsync(cluster)).Parsed;
        Assert.Equal(0, stopped.Sum("whetstone_silo_up", ("silo", firstSilo)));
        Assert.Equal(5, stopped.Sum("whetstone_optim_steps_total", ("silo", firstSilo)));
        Assert.False(stopped.Has("whetstone_queue_depth", ("silo", firstSilo)));
        Assert.Equal(1, stopped.Sum("whetstone_silo_up", ("silo", other)));

        // The run resumes on the survivor from its saved step 3; the 2 steps redone there count
        // there, and the cluster's sum is every step applied: 5 + 2.
        Assert.Equal(3, (await run.GetInfoAsync()).Step);
        for (int s = 3; s < 5; s++) await StepAsync(run, s);
        var after = (await ScrapeUntilStepsAsync(cluster, 7)).Parsed;
        Assert.Equal(2, after.Sum("whetstone_optim_steps_total", ("silo", other)));
        Assert.Equal(5, after.Sum("whetstone_optim_steps_total", ("silo", firstSilo)));
        Assert.Equal(7, after.Sum("whetstone_optim_steps_total"));
    }
}
