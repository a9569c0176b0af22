using System.Diagnostics;
using Whetstone.Client;

namespace Whetstone.Cookbook.LoadTest;

/// <summary>Runs a load test against a running server (issue #19, "reliability, measured"): the
/// clients work until the duration is over, finish what they have in flight, and then every
/// client's log is compared with its run's step on the server and the server's counters summed over
/// its silos (/metrics/cluster: against a cluster the optimizer steps are counted on the workers).
/// Bounded: past duration + drain everything still in flight is cancelled and counted as cut off.
/// The /metrics comparisons assume no one else trains on, or is refused by, the server meanwhile.</summary>
public static class LoadTestRun
{
    public static async Task<LoadTestReport> RunAsync(LoadTestSettings settings, Action<string>? progress = null)
    {
        settings.Validate();
        Directory.CreateDirectory(settings.LogDirectory);
        using var scrape = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var metrics = ServerMetrics.Counted;
        string route = await ServerMetrics.RouteAsync(scrape, settings.Server).ConfigureAwait(false);
        var endpoint = new Uri(settings.Server, route);
        var before = await PrometheusCounters.ScrapeSettledAsync(scrape, endpoint, metrics, tries: 1).ConfigureAwait(false);

        var tally = new HttpStatusTally();
        var stats = new OperationStats();
        using var hardStop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, settings.Clients).Select(i => new LoadTestClient(i, settings, tally, stats, hardStop.Token)).ToList();
        try
        {
            // Runs first, outside the clock; a stuck server still ends within the drain.
            hardStop.CancelAfter(settings.Drain);
            await Task.WhenAll(clients.Select(c => c.CreateRunAsync())).ConfigureAwait(false);
            progress?.Invoke($"{clients.Count(c => c.Run is not null)} runs created; working for {settings.Duration.TotalSeconds:0} s");

            var clock = Stopwatch.StartNew();
            using var stopStarting = new CancellationTokenSource(settings.Duration);
            hardStop.CancelAfter(settings.Duration + settings.Drain);
            using var ticker = Report(progress, clients, clock, stopStarting.Token);
            using var working = new CancellationTokenSource();
            var peakQueue = ServerMetrics.PeakQueueDepthAsync(scrape, endpoint, TimeSpan.FromSeconds(2), working.Token);
            await Task.WhenAll(clients.Select(c => c.RunAsync(stopStarting.Token))).ConfigureAwait(false);
            var elapsed = clock.Elapsed;
            await working.CancelAsync().ConfigureAwait(false);

            // The comparison has its own client (no retries hide anything; the work is done).
            using var check = ServiceClient.Connect(settings.Server, settings.ApiKey);
            var steps = new List<ClientSteps>();
            for (int i = 0; i < clients.Count; i++)
            {
                var c = clients[i];
                long serverStep = 0;
                if (c.Run is not null)
                {
                    var run = await check.GetTrainingClientAsync(c.Run.RunId).ConfigureAwait(false);
                    serverStep = (await run.GetInfoAsync().ConfigureAwait(false)).Step;
                    c.Log.Finished(c.Run.RunId, serverStep);
                }
                steps.Add(new ClientSteps(i, c.Run?.RunId, c.Iterations, c.Log.AcknowledgedSteps.Count, serverStep, c.StepsInDoubt, c.StepsOutOfSequence));
            }
            var after = await PrometheusCounters.ScrapeSettledAsync(scrape, endpoint, metrics).ConfigureAwait(false);
            return new LoadTestReport(settings, elapsed, steps, tally.ByStatus, tally.NoAnswer, tally.CutOff, tally.Examples, stats.Summaries(),
                clients.Sum(c => c.SampledTokens), clients.Sum(c => c.TrainedTokens),
                new ServerMetrics(ServerMetrics.Subtract(after, before), await peakQueue.ConfigureAwait(false)) { Route = route });
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    /// <summary>A progress line every 30 s while the clients work.</summary>
    static IDisposable Report(Action<string>? progress, List<LoadTestClient> clients, Stopwatch clock, CancellationToken stop)
    {
        if (progress is null) return new CancellationTokenSource();
        return new Timer(_ =>
        {
            if (!stop.IsCancellationRequested)
                progress($"{clock.Elapsed.TotalSeconds:0} s: {clients.Sum(c => c.Log.AcknowledgedSteps.Count)} optimizer steps acknowledged, {clients.Sum(c => c.Iterations)} iterations");
        }, null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
    }
}
