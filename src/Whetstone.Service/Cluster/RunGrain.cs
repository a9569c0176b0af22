using Orleans;
using Orleans.Runtime;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Cluster;

/// <summary>See <see cref="IRunGrain"/>. The run itself (adapter, optimizer state) lives in this
/// silo's engine worker, held by its run service; a run that is not in memory there — its grain
/// was just placed here after the worker that held it died — is restored from its last saved
/// state on the shared checkpoint directory (TrainingRunService's restore path), so the steps
/// after that save are redone by the client, as in Tinker.</summary>
[BaseModelPlacement]
internal sealed class RunGrain(ServiceCore core, ILocalSiloDetails silo, RunGrainCount count) : Grain, IRunGrain
{
    string RunId => RunGrainKey.Parse(this.GetPrimaryKeyString()).RunId;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A run stays on its worker while that worker lives: collecting an idle grain would let
        // its next call land on another worker and drop the steps since the last save.
        DelayDeactivation(TimeSpan.FromDays(365));
        count.Add();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        count.Remove();
        return Task.CompletedTask;
    }

    public Task<GrainAnswer> Create(Caller caller, P.CreateTrainingRunRequest request) =>
        GrainAnswer.Of(() => core.Runs.CreateAsync(caller, request, RunId));

    public Task<GrainAnswer> CreateFromState(Caller caller, P.CreateTrainingRunFromStateRequest request) =>
        GrainAnswer.Of(() => core.Runs.CreateFromStateAsync(caller, request, RunId));

    /// <summary>The run's info as this worker has it: a run placed here again is restored first,
    /// so its step is the saved state's (one never saved stays as its record says).</summary>
    public Task<GrainAnswer> Info(Caller caller) => GrainAnswer.Of(async () =>
    {
        try { await core.Runs.ResumeAsync(caller, RunId); }
        catch (ApiError e) when (e.Status == System.Net.HttpStatusCode.Conflict) { }
        return await core.Runs.InfoAsync(caller, RunId);
    });

    public Task<GrainAnswer> Forward(Caller caller, P.ForwardBackwardRequest request, bool backward) =>
        GrainAnswer.Of(() => core.Runs.ForwardAsync(caller, RunId, request, backward));

    public Task<GrainAnswer> Score(Caller caller, P.ScoreRequest request) => GrainAnswer.Of(() => core.Runs.ScoreAsync(caller, RunId, request));

    public Task<GrainAnswer> OptimStep(Caller caller, P.OptimStepRequest request) => GrainAnswer.Of(() => core.Runs.OptimStepAsync(caller, RunId, request));

    public Task<GrainAnswer> Save(Caller caller, P.SaveStateRequest request, string kind) =>
        GrainAnswer.Of(() => core.Runs.SaveAsync(caller, RunId, request, kind));

    public Task<GrainAnswer> LoadState(Caller caller, P.LoadStateRequest request) =>
        GrainAnswer.Of(() => core.Runs.LoadStateAsync(caller, RunId, request));

    public async Task<P.FutureResponse> Result(Caller caller, string requestId, TimeSpan wait)
    {
        try
        {
            return await core.Context.Futures.WaitAsync(requestId, caller, wait, CancellationToken.None);
        }
        catch (ApiError e) when (e.Status == System.Net.HttpStatusCode.NotFound)
        {
            return new P.FutureResponse(requestId, P.FutureStatus.Failed)
            {
                Error = new P.ErrorDetail(IRunGrain.WorkerLost,
                    $"request '{requestId}' was queued on a worker that stopped before it finished; run '{RunId}' resumed from its last save_state on another worker: redo the steps after that save"),
            };
        }
    }

    public Task<SiloAddress> Where() => Task.FromResult(silo.SiloAddress);
}
