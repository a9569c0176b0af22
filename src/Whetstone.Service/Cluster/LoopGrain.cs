using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Whetstone.Service.Hosting;
using Whetstone.Service.Loops;

namespace Whetstone.Service.Cluster;

/// <summary>See <see cref="ILoopGrain"/>. The job runs off the grain's scheduler (it takes minutes
/// and only touches this silo's service core); the grain only keeps one running at a time. A
/// worker that dies mid-iteration loses the job with it: the loop's next tick activates the grain
/// on another worker of the model, and the job resumes from the store as after a restart (the
/// iteration is redone on the same feedback window).</summary>
[BaseModelPlacement]
internal sealed class LoopGrain(ServiceCore core, ILocalSiloDetails silo, ILogger<LoopGrain> logger) : Grain, ILoopGrain
{
    readonly CancellationTokenSource _stop = new();
    LoopIterationJob? _job;
    Task? _advancing;
    int _advances;

    string LoopId => RunGrainKey.Parse(this.GetPrimaryKeyString()).RunId;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Stay on this worker while it lives, as a run does: the job in flight is here.
        DelayDeactivation(TimeSpan.FromDays(365));
        return Task.CompletedTask;
    }

    public async Task<bool> Advance()
    {
        if (_advancing is { IsCompleted: false }) return false;
        var loop = await core.Store.GetLoopAsync(LoopId);
        if (loop is null || (loop.Status != "active" && loop.State == "idle")) return false;
        _job ??= new LoopIterationJob(core.Context, core.Runs, core.Sessions, core.Deployments, new StreamingRewardModel(core.RewardModels));
        var job = _job;
        var stop = _stop.Token;
        _advances++;
        _advancing = Task.Run(async () =>
        {
            try { await job.AdvanceAsync(loop, stop); }
            catch (Exception) when (stop.IsCancellationRequested) { }   // stopping: redone from the store by the next activation
            catch (Exception e) { logger.LogError(e, "loop {Loop}", loop.Id); }
        });
        return true;
    }

    public Task<int> Advances() => Task.FromResult(_advances);

    public Task<SiloAddress> Where() => Task.FromResult(silo.SiloAddress);

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stop.Cancel();
        if (_advancing is not null)
            try { await _advancing.WaitAsync(cancellationToken); }
            catch (Exception) { }
    }
}
