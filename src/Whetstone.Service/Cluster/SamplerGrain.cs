using System.Net;
using Orleans;
using Orleans.Runtime;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Cluster;

/// <summary>See <see cref="ISamplerGrain"/>. Ownership is checked by the session service itself
/// (another tenant's call is a 404, as in one process), and on a replacement worker against the
/// stored tenant before the session is opened again.</summary>
[BaseModelPlacement]
internal sealed class SamplerGrain(ServiceCore core, ILocalSiloDetails silo,
    [PersistentState("sampler", ClusterStorage.Name)] IPersistentState<SamplerState> stored) : Grain, ISamplerGrain
{
    /// <summary>The session is open in this silo's session service.</summary>
    bool _open;

    string SessionId => RunGrainKey.Parse(this.GetPrimaryKeyString()).RunId;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The session (its loaded adapter) lives on this worker: stay while it lives.
        DelayDeactivation(TimeSpan.FromDays(365));
        return Task.CompletedTask;
    }

    public Task<GrainAnswer> Create(Caller caller, P.CreateSamplingSessionRequest request) => GrainAnswer.Of(async () =>
    {
        if (stored.State.Tenant is not null) throw new ApiError(HttpStatusCode.Conflict, "conflict", $"sampling session '{SessionId}' exists already");
        var info = await core.Sessions.CreateAsync(caller, request, SessionId);
        _open = true;
        stored.State = new SamplerState { Tenant = caller.Tenant, BaseModel = info.BaseModel, ModelPath = request.ModelPath };
        await stored.WriteStateAsync();
        return info;
    });

    public Task<GrainAnswer> Sample(Caller caller, P.SampleRequest request) => GrainAnswer.Of(async () =>
    {
        await OpenAsync(caller);
        return await core.Sessions.SampleAsync(caller, SessionId, request);
    });

    public Task<GrainAnswer> ComputeLogprobs(Caller caller, P.ComputeLogprobsRequest request) => GrainAnswer.Of(async () =>
    {
        await OpenAsync(caller);
        return await core.Sessions.ComputeLogprobsAsync(caller, SessionId, request);
    });

    public Task<GrainAnswer> Close(Caller caller) => GrainAnswer.Of(async () =>
    {
        if (stored.State.Tenant != caller.Tenant || stored.State.Closed) throw ApiError.NotFound("sampling session", SessionId);
        if (_open) await core.Sessions.CloseAsync(caller, SessionId);
        _open = false;
        stored.State.Closed = true;
        await stored.WriteStateAsync();
        return true;
    });

    public async Task<P.FutureResponse> Result(Caller caller, string requestId, TimeSpan wait)
    {
        try
        {
            return await core.Context.Futures.WaitAsync(requestId, caller, wait, CancellationToken.None);
        }
        catch (ApiError e) when (e.Status == HttpStatusCode.NotFound)
        {
            return new P.FutureResponse(requestId, P.FutureStatus.Failed)
            {
                Error = new P.ErrorDetail(IRunGrain.WorkerLost,
                    $"request '{requestId}' was queued on a worker that stopped before it finished; sampling session '{SessionId}' is open on another worker: send the request again"),
            };
        }
    }

    public Task<SiloAddress> Where() => Task.FromResult(silo.SiloAddress);

    /// <summary>Opens the session here again when this activation did not create it (its worker
    /// died, or the cluster restarted): same id, same base model or checkpoint.</summary>
    async Task OpenAsync(Caller caller)
    {
        if (_open) return;
        var state = stored.State;
        if (state.Tenant is null || state.Closed || state.Tenant != caller.Tenant) throw ApiError.NotFound("sampling session", SessionId);
        await core.Sessions.CreateAsync(caller, new P.CreateSamplingSessionRequest
        {
            BaseModel = state.ModelPath is null ? state.BaseModel : null, ModelPath = state.ModelPath,
        }, SessionId, reopen: true);
        _open = true;
    }
}

/// <summary>See <see cref="ISamplerIndexGrain"/>.</summary>
internal sealed class SamplerIndexGrain([PersistentState("sampler_index", ClusterStorage.Name)] IPersistentState<SamplerIndexState> stored)
    : Grain, ISamplerIndexGrain
{
    public async Task Set(string baseModel)
    {
        stored.State.BaseModel = baseModel;
        await stored.WriteStateAsync();
    }

    public Task<string?> Get() => Task.FromResult(stored.State.BaseModel);
}

[GenerateSerializer, Alias("whetstone.sampler_index_state")]
internal sealed class SamplerIndexState
{
    [Id(0)] public string? BaseModel { get; set; }
}
