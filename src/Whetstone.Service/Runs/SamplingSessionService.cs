using System.Collections.Concurrent;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Sampling;
using Whetstone.Service.Auth;
using Whetstone.Service.Scheduling;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>Sampling sessions: a base model, or a sampler checkpoint — a LoRA adapter loaded once
/// per session onto the shared base, or a full fine-tuning run's whole model, loaded into a network
/// of its own that sessions on the same checkpoint share (<see cref="FullModelSamplers"/>).
/// Requests of all sessions on one network decode together. A closed session lets go of what it held.</summary>
internal sealed class SamplingSessionService(ServiceContext context, FullModelSamplers fullModels)
{
    readonly ConcurrentDictionary<string, Session> _sessions = new();

    sealed record Session(string Id, string Tenant, string BaseModel, string? ModelPath, LoraAdapter? Adapter, FullModelLease? FullModel);

    public async Task<P.SamplingSessionInfo> CreateAsync(Caller caller, P.CreateSamplingSessionRequest request)
    {
        if ((request.BaseModel is null) == (request.ModelPath is null))
            throw ApiError.BadRequest("base_model", "give exactly one of base_model and model_path");
        string baseModel;
        LoraAdapter? adapter = null;
        FullModelLease? fullModel = null;
        if (request.BaseModel is not null)
        {
            baseModel = request.BaseModel;
            context.Models.Directory(baseModel);   // throws for a model not served
        }
        else
        {
            var (checkpoint, run) = await Checkpoints.ReadableAsync(context, caller, request.ModelPath!, "model_path");
            if (checkpoint.Kind != CheckpointPath.SamplerWeights)
                throw ApiError.BadRequest("model_path", "is a training state; sample from a sampler_weights checkpoint (save_weights_for_sampler)");
            baseModel = run.BaseModel;
            if (run.FullFineTuning)
            {
                // The creation time is in the key: a checkpoint saved again under its name is another model.
                fullModel = await fullModels.AcquireAsync(baseModel, checkpoint.Directory, $"{checkpoint.Path}#{checkpoint.CreatedAt.UtcTicks}");
            }
            else
            {
                var scheduler = context.Scheduler(baseModel);
                adapter = await context.OnWorkerAsync(scheduler, () => PeftAdapter.Load(checkpoint.Directory, scheduler.Model.Network));
            }
        }
        var session = new Session("samp_" + Guid.NewGuid().ToString("N")[..16], caller.Tenant, baseModel, request.ModelPath, adapter, fullModel);
        _sessions[session.Id] = session;
        return new P.SamplingSessionInfo(session.Id, baseModel, request.ModelPath);
    }

    public async Task<P.UntypedFuture> SampleAsync(Caller caller, string sessionId, P.SampleRequest request)
    {
        var session = Owned(caller, sessionId);
        var scheduler = context.Scheduler(session.BaseModel);
        var tokens = ProtocolMapping.Tokens(request.Prompt, "prompt");
        var engineRequest = new SampleRequest(tokens, request.NumSamples, ProtocolMapping.Sampling(request.SamplingParams))
        {
            IncludePromptLogprobs = request.PromptLogprobs,
            TopkPromptLogprobs = request.TopkPromptLogprobs,
            Adapter = session.Adapter,
        };
        scheduler.Sampler.Validate(engineRequest);
        var lease = Hold(session);
        var item = new SampleItem(RequestFutures.NewRequestId(), engineRequest) { Sampler = lease?.Sampler };
        return new P.UntypedFuture(await SubmitHoldingAsync(scheduler, item, lease, caller, "sample", r => ProtocolMapping.Output((SampleResult)r)));
    }

    public async Task<P.UntypedFuture> ComputeLogprobsAsync(Caller caller, string sessionId, P.ComputeLogprobsRequest request)
    {
        var session = Owned(caller, sessionId);
        var scheduler = context.Scheduler(session.BaseModel);
        var tokens = ProtocolMapping.Tokens(request.Prompt, "prompt");
        if (tokens.Length == 0) throw ApiError.BadRequest("prompt", "has no tokens");
        int limit = scheduler.Model.Config.MaxPositionEmbeddings;
        if (tokens.Length > limit) throw ApiError.BadRequest("prompt", $"has {tokens.Length} tokens, more than the model's maximum of {limit}");
        scheduler.Sampler.CheckTokens("prompt", tokens);
        var lease = Hold(session);
        var item = new ComputeLogprobsItem(RequestFutures.NewRequestId(), tokens, session.Adapter) { Sampler = lease?.Sampler };
        return new P.UntypedFuture(await SubmitHoldingAsync(scheduler, item, lease, caller, "compute_logprobs",
            r => new P.ComputeLogprobsOutput(((IReadOnlyList<float?>)r).Select(l => (double?)l).ToArray())));
    }

    /// <summary>Ends a session. A whole model it held is disposed once no queued call still needs
    /// it; a LoRA adapter is dropped with the session (its tensors go with the garbage collector,
    /// as a queued call may still use them).</summary>
    public Task CloseAsync(Caller caller, string sessionId)
    {
        var session = Owned(caller, sessionId);
        if (_sessions.TryRemove(session.Id, out _)) session.FullModel?.Dispose();
        return Task.CompletedTask;
    }

    // A queued call keeps the session's whole model loaded until it completes, even if the session closes meanwhile.
    FullModelLease? Hold(Session session) =>
        session.FullModel is null ? null : session.FullModel.Share() ?? throw ApiError.NotFound("sampling session", session.Id);

    async Task<string> SubmitHoldingAsync(ClockCycleScheduler scheduler, WorkItem item, FullModelLease? lease, Caller caller, string kind,
        Func<object, object> toProtocol)
    {
        string id;
        try { id = await context.SubmitAsync(scheduler, item, caller, null, kind, toProtocol); }
        catch
        {
            lease?.Dispose();
            throw;
        }
        if (lease is not null) _ = item.Completion.Task.ContinueWith(_ => lease.Dispose(), TaskScheduler.Default);
        return id;
    }

    Session Owned(Caller caller, string sessionId) =>
        _sessions.TryGetValue(sessionId, out var s) && s.Tenant == caller.Tenant ? s : throw ApiError.NotFound("sampling session", sessionId);
}
