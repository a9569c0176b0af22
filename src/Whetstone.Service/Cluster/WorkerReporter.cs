using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Cluster;

/// <summary>On a worker silo: tells the directory, every <see cref="ClusterSettings.ReportInterval"/>,
/// which base models this silo hosts and how many run grains it holds. The reports double as the
/// directory's liveness signal (a silo whose reports stop is no longer chosen).</summary>
/// <remarks>The first report is made before the host goes on to start its HTTP server (hosted
/// services start one after another, the web server last), so a process that is both gateway and
/// worker — `whet serve`'s default — never answers a run's creation with "no live worker hosts the
/// model" in its first seconds. A worker whose directory cannot be reached yet starts anyway after
/// <see cref="FirstReportLimit"/> and keeps reporting.</remarks>
internal sealed class WorkerReporter(ServiceCore core, RunGrainCount runs, ILocalSiloDetails silo, IGrainFactory grains, TimeSpan interval, ILogger<WorkerReporter> logger)
    : BackgroundService
{
    static readonly TimeSpan FirstReportLimit = TimeSpan.FromSeconds(30);

    string[] Models => core.Context.Models.Names.ToArray();
    IBaseModelDirectoryGrain Directory => grains.GetGrain<IBaseModelDirectoryGrain>(0);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Directory.Report(silo.SiloAddress, Models, runs.Value).WaitAsync(FirstReportLimit, cancellationToken);
            StartupTrace.Mark("first worker report in the directory");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("first report to the directory: {Error}", e.Message);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var models = Models;
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(interval, stoppingToken); }
            catch (OperationCanceledException) { return; }
            try { await Directory.Report(silo.SiloAddress, models, runs.Value); }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested) { logger.LogWarning("reporting to the directory: {Error}", e.Message); }
        }
    }
}
