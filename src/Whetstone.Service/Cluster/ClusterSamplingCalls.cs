using System.Collections.Concurrent;
using Orleans;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Cluster;

/// <summary>A gateway's sampling-session calls: each session is a <see cref="ISamplerGrain"/> on a
/// worker hosting its base model, found from the session id through its record on the shared data
/// directory (<see cref="SamplerRecords"/>), so a session made through one gateway is used through any other. Futures are tracked on the
/// gateway that accepted the call (as <see cref="ClusterRunCalls"/> does). When the session's
/// worker dies its next call opens it again on another worker of the model (503 while the death
/// is noticed, which the SDK retries); calls that were pending there fail with worker_lost.</summary>
internal sealed class ClusterSamplingCalls(IGrainFactory grains, ServiceContext context) : ISamplingCalls
{
    /// <summary>Sessions' base models as the index said (a session's never changes).</summary>
    readonly ConcurrentDictionary<string, string> _baseModels = new();

    public async Task<P.SamplingSessionInfo> CreateAsync(Caller caller, P.CreateSamplingSessionRequest request)
    {
        if ((request.BaseModel is null) == (request.ModelPath is null))
            throw ApiError.BadRequest("base_model", "give exactly one of base_model and model_path");
        string baseModel = request.BaseModel ?? (await Checkpoints.ReadableAsync(context, caller, request.ModelPath!, "model_path")).Run.BaseModel;
        var hosts = await ClusterRunCalls.CallAsync(() => grains.GetGrain<IBaseModelDirectoryGrain>(0).Hosts(baseModel));
        if (hosts.Length == 0)
            throw ApiError.BadRequest(request.BaseModel is null ? "model_path" : "base_model", $"base model '{baseModel}' is hosted by no live worker of the cluster");
        string id = SamplingSessionService.NewId();
        await SamplerRecords.WriteAsync(context.DataDirectory, id, new SamplerRecord(caller.Tenant, baseModel, request.ModelPath));
        _baseModels[id] = baseModel;
        return (await ClusterRunCalls.CallAsync(() => Sampler(baseModel, id).Create(caller, request))).Value<P.SamplingSessionInfo>();
    }

    public Task<P.UntypedFuture> SampleAsync(Caller caller, string sessionId, P.SampleRequest request) =>
        SubmitAsync(caller, sessionId, g => g.Sample(caller, request));

    public Task<P.UntypedFuture> ComputeLogprobsAsync(Caller caller, string sessionId, P.ComputeLogprobsRequest request) =>
        SubmitAsync(caller, sessionId, g => g.ComputeLogprobs(caller, request));

    public async Task CloseAsync(Caller caller, string sessionId)
    {
        var grain = await FindAsync(sessionId);
        (await ClusterRunCalls.CallAsync(() => grain.Close(caller))).Value<bool>();
    }

    async Task<P.UntypedFuture> SubmitAsync(Caller caller, string sessionId, Func<ISamplerGrain, Task<GrainAnswer>> call)
    {
        var grain = await FindAsync(sessionId);
        var future = (await ClusterRunCalls.CallAsync(() => call(grain))).Value<P.UntypedFuture>();
        ClusterRunCalls.Follow(context.Futures, caller, future.RequestId, (id, wait) => grain.Result(caller, id, wait));
        return future;
    }

    /// <summary>The session's grain; the grain itself checks the caller owns it (404 otherwise).</summary>
    async Task<ISamplerGrain> FindAsync(string sessionId)
    {
        if (!_baseModels.TryGetValue(sessionId, out var baseModel))
        {
            baseModel = (await SamplerRecords.ReadAsync(context.DataDirectory, sessionId))?.BaseModel
                ?? throw ApiError.NotFound("sampling session", sessionId);
            _baseModels[sessionId] = baseModel;
        }
        return Sampler(baseModel, sessionId);
    }

    ISamplerGrain Sampler(string baseModel, string sessionId) => grains.GetGrain<ISamplerGrain>(RunGrainKey.Of(baseModel, sessionId));
}
