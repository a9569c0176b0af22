using System.Net;
using System.Text.Json;
using Orleans;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;
using Whetstone.Service.Scheduling;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Cluster;

/// <summary>A gateway's run calls: checked against the shared metadata store (ownership: other
/// tenants get 404), then handed to the run's grain. Each accepted call's future is tracked here,
/// so GET /futures/{id} answers on the gateway as in one process; it follows the result on the
/// grain and fails with <see cref="IRunGrain.WorkerLost"/> when the worker died first. A call
/// that cannot reach a worker (it died, its run is being placed again) is 503 with Retry-After,
/// which the SDK retries; nothing of it was accepted.</summary>
internal sealed class ClusterRunCalls(IGrainFactory grains, ServiceContext context) : IRunCalls
{
    static readonly TimeSpan PollWait = TimeSpan.FromSeconds(20);

    IBaseModelDirectoryGrain Directory => grains.GetGrain<IBaseModelDirectoryGrain>(0);

    public async Task<P.TrainingRunInfo> CreateAsync(Caller caller, P.CreateTrainingRunRequest request)
    {
        if (string.IsNullOrEmpty(request.BaseModel)) throw ApiError.BadRequest("base_model", "is required");
        await RequireWorkerAsync(request.BaseModel);
        var grain = Run(request.BaseModel, TrainingRunService.NewRunId());
        return (await CallAsync(() => grain.Create(caller, request))).Value<P.TrainingRunInfo>();
    }

    public async Task<P.TrainingRunInfo> CreateFromStateAsync(Caller caller, P.CreateTrainingRunFromStateRequest request)
    {
        var (_, source) = await Checkpoints.ReadableAsync(context, caller, request.Path ?? "", "path");
        await RequireWorkerAsync(source.BaseModel);
        var grain = Run(source.BaseModel, TrainingRunService.NewRunId());
        return (await CallAsync(() => grain.CreateFromState(caller, request))).Value<P.TrainingRunInfo>();
    }

    public async Task<P.TrainingRunInfo> InfoAsync(Caller caller, string runId)
    {
        var grain = await OwnedAsync(caller, runId);
        return (await CallAsync(() => grain.Info(caller))).Value<P.TrainingRunInfo>();
    }

    public Task<P.UntypedFuture> ForwardAsync(Caller caller, string runId, P.ForwardBackwardRequest request, bool backward) =>
        SubmitAsync(caller, runId, g => g.Forward(caller, request, backward));

    public Task<P.UntypedFuture> ScoreAsync(Caller caller, string runId, P.ScoreRequest request) =>
        SubmitAsync(caller, runId, g => g.Score(caller, request));

    public Task<P.UntypedFuture> OptimStepAsync(Caller caller, string runId, P.OptimStepRequest request) =>
        SubmitAsync(caller, runId, g => g.OptimStep(caller, request));

    public Task<P.UntypedFuture> SaveAsync(Caller caller, string runId, P.SaveStateRequest request, string kind) =>
        SubmitAsync(caller, runId, g => g.Save(caller, request, kind));

    public Task<P.UntypedFuture> LoadStateAsync(Caller caller, string runId, P.LoadStateRequest request) =>
        SubmitAsync(caller, runId, g => g.LoadState(caller, request));

    async Task<P.UntypedFuture> SubmitAsync(Caller caller, string runId, Func<IRunGrain, Task<GrainAnswer>> call)
    {
        var grain = await OwnedAsync(caller, runId);
        var future = (await CallAsync(() => call(grain))).Value<P.UntypedFuture>();
        Follow(context.Futures, caller, future.RequestId, (id, wait) => grain.Result(caller, id, wait));
        return future;
    }

    /// <summary>Tracks a call submitted to a grain so that its future answers on this gateway.</summary>
    /// <remarks>A process that is both gateway and worker (--role both, the default) may hold the
    /// grain itself: its run or sampling service then tracked the call under this id in this same
    /// RequestFutures before answering, and that entry is the future. Following the grain there
    /// would replace it with a task that polls the grain, which waits on the entry, which is the
    /// follower: a future that never completes (issue #19).</remarks>
    internal static void Follow(RequestFutures futures, Caller caller, string requestId, Func<string, TimeSpan, Task<P.FutureResponse>> result)
    {
        if (!futures.IsTracked(requestId)) futures.Track(requestId, FollowAsync(result, requestId), caller.Tenant, r => r);
    }

    /// <summary>The call's result (its protocol JSON) once the worker has it.</summary>
    /// <remarks>A call still pending when its worker died is not submitted again: it fails with
    /// <see cref="IRunGrain.WorkerLost"/> and the client redoes the steps after its last save.
    /// None of the run calls is safe to replay on the run placed again, which is restored from its
    /// last save_state: forward_backward and optim_step may have been applied before the worker
    /// died (a replay would apply them twice, or onto other weights), a save would write the
    /// restored weights under the new name, load_state would be followed by calls that were lost
    /// with the worker, and forward and score, though they change nothing, would silently answer
    /// from the saved weights rather than from the weights of the steps submitted before them.
    /// Whether no step was taken since the last durable save cannot be known here either: another
    /// gateway may have submitted one.</remarks>
    internal static async Task<object> FollowAsync(Func<string, TimeSpan, Task<P.FutureResponse>> result, string requestId)
    {
        while (true)
        {
            P.FutureResponse answer;
            try { answer = await result(requestId, PollWait); }
            catch (Exception e)
            {
                throw new ApiError(HttpStatusCode.ServiceUnavailable, IRunGrain.WorkerLost,
                    $"request '{requestId}': its worker stopped before it finished ({e.GetType().Name}); redo the steps after the run's last save_state");
            }
            switch (answer.Status)
            {
                case P.FutureStatus.Done: return answer.Result ?? JsonSerializer.SerializeToElement<object?>(null);
                case P.FutureStatus.Failed:
                    var error = answer.Error ?? new P.ErrorDetail("internal_error", "failed without an error detail");
                    throw new ApiError(HttpStatusCode.InternalServerError, error.Code, error.Message, error.Field);
            }
        }
    }

    async Task<IRunGrain> OwnedAsync(Caller caller, string runId)
    {
        var record = await context.Store.GetRunAsync(runId);
        if (record is null || record.Tenant != caller.Tenant) throw ApiError.NotFound("training run", runId);
        return Run(record.BaseModel, runId);
    }

    IRunGrain Run(string baseModel, string runId) => grains.GetGrain<IRunGrain>(RunGrainKey.Of(baseModel, runId));

    async Task RequireWorkerAsync(string baseModel)
    {
        var hosts = await CallAsync(() => Directory.Hosts(baseModel));
        if (hosts.Length == 0) throw ApiError.BadRequest("base_model", $"'{baseModel}' is hosted by no live worker of the cluster");
    }

    /// <summary>A grain call; a failure of the cluster itself (a dead silo, a run being placed
    /// again, no worker left for its model) is a retryable 503. Errors of the request come back
    /// inside the answer, never as exceptions.</summary>
    internal static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try { return await call(); }
        catch (Exception e) when (e is not ApiError)
        {
            throw new ApiError(HttpStatusCode.ServiceUnavailable, "worker_unavailable",
                $"no worker could take the call right now ({e.GetType().Name}: {e.Message}); retry shortly");
        }
    }
}
