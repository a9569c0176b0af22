using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Cluster;

/// <summary>On a worker silo: tells the directory, every <see cref="ClusterSettings.ReportInterval"/>,
/// which base models this silo hosts and how many run grains it holds. The reports double as the
/// directory's liveness signal (a silo whose reports stop is no longer chosen).</summary>
internal sealed class WorkerReporter(ServiceCore core, RunGrainCount runs, ILocalSiloDetails silo, IGrainFactory grains, TimeSpan interval, ILogger<WorkerReporter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var models = core.Context.Models.Names.ToArray();
        var directory = grains.GetGrain<IBaseModelDirectoryGrain>(0);
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await directory.Report(silo.SiloAddress, models, runs.Value); }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested) { logger.LogWarning("reporting to the directory: {Error}", e.Message); }
            try { await Task.Delay(interval, stoppingToken); }
            catch (OperationCanceledException) { }
        }
    }
}
