using System.Collections.Concurrent;
using Whetstone.Engine.Formats;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Sampling;
using Whetstone.Service.Auth;
using Whetstone.Service.Scheduling;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>Sampling sessions: a base model, or a sampler checkpoint (a LoRA adapter loaded once
/// per session onto the shared base). Requests of all sessions on a base model decode together.</summary>
internal sealed class SamplingSessionService(ServiceContext context)
{
    readonly ConcurrentDictionary<string, Session> _sessions = new();

    sealed record Session(string Id, string Tenant, string BaseModel, string? ModelPath, LoraAdapter? Adapter);

    public async Task<P.SamplingSessionInfo> CreateAsync(Caller caller, P.CreateSamplingSessionRequest request)
    {
        if ((request.BaseModel is null) == (request.ModelPath is null))
            throw ApiError.BadRequest("base_model", "give exactly one of base_model and model_path");
        string baseModel;
        LoraAdapter? adapter = null;
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
                throw ApiError.BadRequest("model_path", "is a full model (a full fine-tuning run's weights): download it and serve it as a base model");
            var scheduler = context.Scheduler(baseModel);
            adapter = await context.OnWorkerAsync(scheduler, () => PeftAdapter.Load(checkpoint.Directory, scheduler.Model.Network));
        }
        var session = new Session("samp_" + Guid.NewGuid().ToString("N")[..16], caller.Tenant, baseModel, request.ModelPath, adapter);
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
        var item = new SampleItem(RequestFutures.NewRequestId(), engineRequest);
        var id = await context.SubmitAsync(scheduler, item, caller, null, "sample", r => ProtocolMapping.Output((SampleResult)r));
        return new P.UntypedFuture(id);
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
        var item = new ComputeLogprobsItem(RequestFutures.NewRequestId(), tokens, session.Adapter);
        var id = await context.SubmitAsync(scheduler, item, caller, null, "compute_logprobs",
            r => new P.ComputeLogprobsOutput(((IReadOnlyList<float?>)r).Select(l => (double?)l).ToArray()));
        return new P.UntypedFuture(id);
    }

    Session Owned(Caller caller, string sessionId) =>
        _sessions.TryGetValue(sessionId, out var s) && s.Tenant == caller.Tenant ? s : throw ApiError.NotFound("sampling session", sessionId);
}
