using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;

namespace Whetstone.Service.Cluster;

/// <summary>On every silo: asks a cluster-wide grain (key 0) to do its periodic work, every
/// <paramref name="interval"/>. Every silo asks, so the grain is activated again on a surviving silo
/// when its own died; the grain itself runs the work at most once per interval however many ask
/// (<see cref="IExpirySweepGrain"/>, <see cref="ILoopTickGrain"/>).</summary>
internal sealed class ClusterTicker(string work, TimeSpan interval, Func<TimeSpan, Task> ask, ILogger<ClusterTicker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await ask(interval); }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested) { logger.LogWarning("asking for the {Work}: {Error}", work, e.Message); }
            }
        }
        catch (OperationCanceledException) { }
    }
}
