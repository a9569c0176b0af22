using System.Collections.Concurrent;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Worker;
using Whetstone.Service.Auth;
using Whetstone.Service.Scheduling;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>Sampling sessions: a base model, or a sampler checkpoint — a LoRA adapter loaded once
/// per session onto the shared base, or a full fine-tuning run's whole model, loaded into a network
/// of its own that sessions on the same checkpoint share (<see cref="FullModelSamplers"/>).
/// Requests of all sessions on one network decode together, in the engine worker's one decode
/// loop. A closed session lets go of what it held.</summary>
internal sealed class SamplingSessionService(ServiceContext context, FullModelSamplers fullModels) : ISamplingCalls
{
    public static string NewId() => "samp_" + Guid.NewGuid().ToString("N")[..16];

    Task<P.SamplingSessionInfo> ISamplingCalls.CreateAsync(Caller caller, P.CreateSamplingSessionRequest request) => CreateAsync(caller, request);

    readonly ConcurrentDictionary<string, Session> _sessions = new();

    /// <summary>A session on a LoRA checkpoint holds its adapter (<see cref="Adapter"/>, released on
    /// the worker when the session and its calls are done); one on a full run's checkpoint holds that model.</summary>
    sealed record Session(string Id, string Tenant, string BaseModel, string? ModelPath, HeldOnWorker? Adapter, IDisposable? AdapterHold,
        FullModelLease? FullModel);

    /// <param name="id">The session's id (a cluster's sampler grain gives its own); new when null.</param>
    /// <param name="reopen">The session existed on a worker that died: it was recorded in its client session then.</param>
    public async Task<P.SamplingSessionInfo> CreateAsync(Caller caller, P.CreateSamplingSessionRequest request, string? id = null, bool reopen = false)
    {
        if ((request.BaseModel is null) == (request.ModelPath is null))
            throw ApiError.BadRequest("base_model", "give exactly one of base_model and model_path");
        await ClientSessions.CheckAsync(context, caller, request.SessionId);
        id ??= NewId();
        string baseModel;
        HeldOnWorker? adapter = null;
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
                var worker = context.Host(baseModel).Worker;
                string key = "session:" + id;
                await worker.LoadAdapterAsync(key, checkpoint.Directory);
                adapter = new HeldOnWorker(key, () => worker.ReleaseAdapter(key));
            }
        }
        var session = new Session(id, caller.Tenant, baseModel, request.ModelPath, adapter, adapter?.Hold(), fullModel);
        _sessions[session.Id] = session;
        if (!reopen) await ClientSessions.AddAsync(context, request.SessionId, ClientSessions.SamplerKind, session.Id);
        return new P.SamplingSessionInfo(session.Id, baseModel, request.ModelPath);
    }

    /// <summary>Decodes in the base model's one decode loop, as batch traffic (live OpenAI requests
    /// go first); the future completes when all its samples are done.</summary>
    public async Task<P.UntypedFuture> SampleAsync(Caller caller, string sessionId, P.SampleRequest request)
    {
        var session = Owned(caller, sessionId);
        var host = context.Host(session.BaseModel);
        var prompt = ProtocolMapping.Read(request.Prompt, "prompt", Images.ImageInputRules.For(host.Worker.Config.Vision, context.DataDirectory));
        var engineRequest = new SampleRequest(prompt.Tokens, request.NumSamples, ProtocolMapping.Sampling(request.SamplingParams))
        {
            Images = prompt.Images,
            IncludePromptLogprobs = request.PromptLogprobs,
            TopkPromptLogprobs = request.TopkPromptLogprobs,
            IncludeRouting = request.IncludeRouting,
        };
        host.Worker.Validate(engineRequest);
        var hold = Hold(session);
        var call = new DecodeCall(RequestFutures.NewRequestId(), engineRequest)
        {
            AdapterKey = session.Adapter?.Key, ModelKey = session.FullModel?.Key, Priority = DecodePriority.Batch, Owner = caller.Tenant,
        };
        return new P.UntypedFuture(await SubmitHoldingAsync(host, call, hold, caller, "sample", r => ProtocolMapping.Output((SampleResult)r)));
    }

    public async Task<P.UntypedFuture> ComputeLogprobsAsync(Caller caller, string sessionId, P.ComputeLogprobsRequest request)
    {
        var session = Owned(caller, sessionId);
        var host = context.Host(session.BaseModel);
        var prompt = ProtocolMapping.Read(request.Prompt, "prompt", Images.ImageInputRules.For(host.Worker.Config.Vision, context.DataDirectory));
        var tokens = prompt.Tokens;
        if (tokens.Length == 0) throw ApiError.BadRequest("prompt", "has no tokens");
        int limit = host.Worker.Config.MaxPositionEmbeddings;
        if (tokens.Length > limit) throw ApiError.BadRequest("prompt", $"has {tokens.Length} tokens, more than the model's maximum of {limit}");
        host.Worker.CheckTokens("prompt", tokens);
        var hold = Hold(session);
        if (Engine.Models.Vision.PlacedImageCheck.Problem(host.Worker.Config, tokens, prompt.Images) is { } problem)
            throw ApiError.BadRequest("prompt" + problem.Field, problem.Message);
        var call = new LogprobsCall(RequestFutures.NewRequestId(), tokens)
        {
            AdapterKey = session.Adapter?.Key, ModelKey = session.FullModel?.Key, Images = prompt.Images,
        };
        return new P.UntypedFuture(await SubmitHoldingAsync(host, call, hold, caller, "compute_logprobs",
            r => new P.ComputeLogprobsOutput(((IReadOnlyList<float?>)r).Select(l => (double?)l).ToArray())));
    }

    /// <summary>Ends a session. What it held (an adapter or a whole model) is released on the
    /// worker once no queued call still needs it.</summary>
    public Task CloseAsync(Caller caller, string sessionId)
    {
        var session = Owned(caller, sessionId);
        if (_sessions.TryRemove(session.Id, out _))
        {
            session.FullModel?.Dispose();
            session.AdapterHold?.Dispose();
        }
        return Task.CompletedTask;
    }

    // A queued call keeps what the session samples from loaded until it completes, even if the session closes meanwhile.
    IDisposable? Hold(Session session)
    {
        if (session.FullModel is not null) return session.FullModel.Share() ?? throw ApiError.NotFound("sampling session", session.Id);
        if (session.Adapter is not null) return session.Adapter.Hold() ?? throw ApiError.NotFound("sampling session", session.Id);
        return null;
    }

    async Task<string> SubmitHoldingAsync(BaseModelHost host, WorkerCall call, IDisposable? hold, Caller caller, string kind,
        Func<object, object> toProtocol)
    {
        string id;
        try { id = await context.SubmitAsync(host, call, caller, null, kind, toProtocol); }
        catch
        {
            hold?.Dispose();
            throw;
        }
        if (hold is not null) _ = call.Completion.Task.ContinueWith(_ => hold.Dispose(), TaskScheduler.Default);
        return id;
    }

    Session Owned(Caller caller, string sessionId) =>
        _sessions.TryGetValue(sessionId, out var s) && s.Tenant == caller.Tenant ? s : throw ApiError.NotFound("sampling session", sessionId);
}
