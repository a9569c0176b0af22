using System.Net;
using Orleans;
using Orleans.Runtime;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Cluster;

/// <summary>See <see cref="ISamplerGrain"/>. Ownership is checked by the session service itself
/// (another tenant's call is a 404, as in one process), and on a replacement worker against the
/// session's record before the session is opened again.</summary>
[BaseModelPlacement]
internal sealed class SamplerGrain(ServiceCore core, ILocalSiloDetails silo) : Grain, ISamplerGrain
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
        // The gateway wrote the session's record first: a session is never open without one.
        var info = await core.Sessions.CreateAsync(caller, request, SessionId);
        _open = true;
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
        if (await SamplerRecords.ReadAsync(core.Context.DataDirectory, SessionId) is not { } record || record.Tenant != caller.Tenant)
            throw ApiError.NotFound("sampling session", SessionId);
        if (_open) await core.Sessions.CloseAsync(caller, SessionId);
        _open = false;
        SamplerRecords.Delete(core.Context.DataDirectory, SessionId);
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
        if (await SamplerRecords.ReadAsync(core.Context.DataDirectory, SessionId) is not { } record || record.Tenant != caller.Tenant)
            throw ApiError.NotFound("sampling session", SessionId);
        await core.Sessions.CreateAsync(caller, new P.CreateSamplingSessionRequest
        {
            BaseModel = record.ModelPath is null ? record.BaseModel : null, ModelPath = record.ModelPath,
        }, SessionId, reopen: true);
        _open = true;
    }
}
