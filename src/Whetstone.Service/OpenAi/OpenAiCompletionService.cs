using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Whetstone.Chat;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Sampling.Json;
using Whetstone.Engine.Worker;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;
using Whetstone.Service.Scheduling;
using Whetstone.Service.Serving;
using Whetstone.Tokenization;

namespace Whetstone.Service.OpenAi;

/// <summary>Serves /v1/completions and /v1/chat/completions as a pipeline of small steps:
/// resolve the model (base, sampler checkpoint or deployment) → render (chats with the model's
/// renderer) → validate → submit one live decode call to the base model's engine worker (the one decode loop
/// every kind of sampling shares) → stream or collect
/// → log (before the answer ends, so feedback can name it at once) → answer.</summary>
internal sealed class OpenAiCompletionService(ServiceContext context, ServedModelResolver resolver, Memory.MemoryService memories) : ICompletionCalls
{
    Task ICompletionCalls.ServeAsync(HttpContext http, Caller caller, OpenAiRequest request, System.Text.Json.JsonElement body) => ServeAsync(http, caller, request);

    /// <summary>Chat requests without max_tokens may use the context that is left, up to this.</summary>
    public const int DefaultChatMaxTokens = 4096;
    /// <summary>OpenAI's default for /v1/completions.</summary>
    public const int DefaultCompletionMaxTokens = 16;

    public async Task ServeAsync(HttpContext http, Caller caller, OpenAiRequest request)
    {
        var served = new ServedLog(request, caller);
        long arrived = Stopwatch.GetTimestamp();
        using var target = await resolver.ResolveAsync(caller, request.Model, CanaryRouting.KeysOf(request));
        var host = context.Host(target.BaseModel);
        var latency = new Observability.TokenLatency(context.Meter, target.BaseModel, arrived);
        var tokenizer = host.Worker.Tokenizer;
        using var memory = await OpenMemoryAsync(request, caller, target.BaseModel, host, http);
        var (prompt, renderer) = Render(memory is null ? request : request with { Messages = memory.Messages(request.Messages!, tokenizer) }, tokenizer);
        IReadOnlyList<Engine.Models.Vision.PlacedImage> images = [];
        if (request.Images.Count > 0)
            (prompt, images) = Images.ChatImage.Expand(prompt, request.Images, Images.ImageInputRules.For(host.Worker.Config.Vision, context.DataDirectory));
        var engineRequest = Validate(request, prompt, renderer, host.Worker) with { Images = images };
        if (images.Count > 0) host.Worker.Validate(engineRequest);
        var stream = Submit(host, engineRequest, target, caller, http.RequestAborted, memory is null ? null : AnswerPrefixKey(memory));

        var chunks = new OpenAiChunks((request.Chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N"), request, served.Created, tokenizer);
        var hidden = new HashSet<int>([.. tokenizer.EosTokenIds, .. renderer?.StopTokenIds ?? []]);
        var choices = Enumerable.Range(0, request.N).Select(i => new CompletionChoice(i,
            new ChoiceText(tokenizer, hidden, request.Stop), request.Chat ? new ChatDeltaSplitter() : null)).ToArray();
        var events = request.Stream ? await ServerSentEvents.StartAsync(http) : null;
        bool completed = await DecodeAsync(stream, choices, renderer, chunks, request, events, served, latency, http.RequestAborted);

        await served.WriteAsync(context, chunks.Id, target, prompt, choices, engineRequest.Params);
        if (!completed) return;   // the client left; its rows were cancelled and logged
        if (memory is not null)   // folded in off the response path; the next turn on this memory waits for it
            _ = await memories.CommitTurnAsync(memory, Memory.MemoryService.TurnText(request.Messages!, choices[0].Message?.Content ?? choices[0].Text.Text), prompt.Count);
        var usage = new Usage(prompt.Count, choices.Sum(c => c.Events.Count));
        if (events is not null)
        {
            if (request.IncludeUsage) await events.SendAsync(chunks.UsageOnly(usage));
            await events.DoneAsync();
        }
        else if (request.Chat)
            await TypedResults.Json(chunks.ChatResponse(choices.Select(c => c.ToChat(request, chunks)).ToArray(), usage) with { Memory = memory?.Used },
                Protocol.ProtocolJson.Options).ExecuteAsync(http);
        else await TypedResults.Json(chunks.TextResponse(choices.Select(c => c.ToText(request, chunks)).ToArray(), usage), Protocol.ProtocolJson.Options).ExecuteAsync(http);
    }

    /// <summary>The request's memory, held for this turn (null without one); its id goes out in a
    /// header before any byte of the answer, so streamed answers name it too.</summary>
    async Task<Memory.MemoryLease?> OpenMemoryAsync(OpenAiRequest request, Caller caller, string baseModel, BaseModelHost host, HttpContext http)
    {
        if (request.Memory is not { } options) return null;
        int newTokens = host.Worker.Tokenizer.Encode(Memory.MemoryService.TurnText(request.Messages!, "")).Count;
        var lease = await memories.OpenAsync(caller, options, baseModel, host.Worker.Config.MaxPositionEmbeddings, newTokens, request.Seed, http.RequestAborted);
        http.Response.Headers["Whetstone-Memory-Id"] = lease.Id;
        return lease;
    }

    /// <summary>The prompt's tokens: a chat rendered with the model's renderer (which also says
    /// what ends a turn), a completion's text encoded or its token ids as sent.</summary>
    static (IReadOnlyList<int> Prompt, IRenderer? Renderer) Render(OpenAiRequest request, HuggingFaceTokenizer tokenizer)
    {
        if (!request.Chat)
        {
            var prompt = request.PromptTokens ?? tokenizer.Encode(request.PromptText!);
            return prompt.Count > 0 ? (prompt, null) : throw ApiError.BadRequest("prompt", "is empty");
        }
        IRenderer renderer;
        try { renderer = RendererFactory.For(tokenizer); }
        catch (ArgumentException e) { throw ApiError.BadRequest("model", $"'{request.Model}' has no chat template we can render ({e.Message}); use /v1/completions"); }
        if (request.Tools.Count == 0) return (renderer.BuildGenerationPrompt(request.Messages!), renderer);
        if (renderer is not IToolPromptRenderer tools)
            throw ApiError.BadRequest("tools", $"'{request.Model}' has a chat template we do not render tools for (Qwen3 and Llama 3 are supported)");
        try { return (tools.BuildGenerationPrompt(request.Messages!, request.Tools), renderer); }
        catch (ArgumentException e) { throw ApiError.BadRequest("messages", e.Message); }
    }

    /// <summary>The engine's request, checked by the sampler against the model (context length,
    /// token ids) before anything is queued.</summary>
    static SampleRequest Validate(OpenAiRequest request, IReadOnlyList<int> prompt, IRenderer? renderer, EngineWorker worker)
    {
        int contextLength = worker.Config.MaxPositionEmbeddings;
        int maxTokens = request.MaxTokens ?? (request.Chat ? Math.Clamp(contextLength - prompt.Count, 1, DefaultChatMaxTokens) : DefaultCompletionMaxTokens);
        // A forced tool call wins over response_format: the answer is the call, not content.
        var grammar = request.ForcedTools is { } forced && renderer is IToolPromptRenderer tools ? ToolCallGrammar.For(tools.CallFormat, forced) : request.JsonSchema;
        if (grammar is not null && JsonConstraint.TokensNeeded(grammar) is var shortest && shortest > maxTokens)
            throw ApiError.BadRequest(request.MaxTokens is null ? "messages" : "max_tokens", $"leaves {maxTokens} tokens to the answer, fewer than the {shortest} the shortest "
                + (request.ForcedTools is null ? "instance of response_format's schema" : "forced tool call") + " needs with its stop token");
        var parameters = new SamplingParams
        {
            MaxTokens = maxTokens, Temperature = request.Temperature, TopP = request.TopP, Stop = request.Stop,
            StopTokenIds = renderer?.StopTokenIds ?? [], Seed = request.Seed ?? Random.Shared.Next(),
            LogitBias = request.LogitBias, PresencePenalty = request.PresencePenalty, FrequencyPenalty = request.FrequencyPenalty,
            Constraint = grammar is not null ? SchemaConstraintFor(worker, renderer, maxTokens, grammar)
                : request.JsonObject ? JsonConstraintFor(worker, renderer, maxTokens) : null,
        };
        var engineRequest = new SampleRequest(prompt, request.N, parameters) { TopLogprobs = request.TopLogprobs };
        try { worker.Validate(engineRequest); }
        catch (SamplingArgumentException e) when (e.Field == "prompt" && request.Chat) { throw ApiError.BadRequest("messages", e.Message); }
        return engineRequest;
    }

    /// <summary>A fresh JSON-object constraint per sampled row, ending on the turn's stop tokens
    /// (the renderer's) or the model's end-of-sequence tokens.</summary>
    static Func<ILogitsProcessor> JsonConstraintFor(EngineWorker worker, IRenderer? renderer, int maxTokens)
    {
        var vocabulary = JsonVocabulary.For(worker.Tokenizer);
        var stops = (renderer?.StopTokenIds ?? []).Concat(worker.Tokenizer.EosTokenIds).Distinct().ToArray();
        return () => new JsonConstraint(vocabulary, stops, maxTokens, objectOnly: true);
    }

    /// <summary>A fresh schema constraint per sampled row (stops as for <see cref="JsonConstraintFor"/>).</summary>
    static Func<ILogitsProcessor> SchemaConstraintFor(EngineWorker worker, IRenderer? renderer, int maxTokens, JsonSchemaNode schema)
    {
        var vocabulary = JsonVocabulary.For(worker.Tokenizer);
        var stops = (renderer?.StopTokenIds ?? []).Concat(worker.Tokenizer.EosTokenIds).Distinct().ToArray();
        return () => new JsonConstraint(vocabulary, stops, maxTokens, schema);
    }

    /// <summary>Sends the request into its base model's running decode batch; the client going
    /// away (<paramref name="aborted"/>) takes its rows out.</summary>
    static DecodeStream Submit(BaseModelHost host, SampleRequest engineRequest, ServedTarget target, Caller caller, CancellationToken aborted, string? prefixKey)
    {
        var stream = new DecodeStream();
        var call = new DecodeCall(RequestFutures.NewRequestId(), engineRequest)
        {
            AdapterKey = target.AdapterKey, ModelKey = target.ModelKey, Priority = DecodePriority.Live, Owner = caller.Tenant,
            Stream = stream, Cancellation = aborted, PrefixKey = prefixKey, KeepPrefix = prefixKey is not null,
        };
        // The whole model stays loaded until the call is done (it may outlive this handler when cancelled).
        var modelHold = target.HoldModel();
        try { host.Planner.Enqueue(call); }
        catch
        {
            modelHold?.Dispose();
            throw;
        }
        if (modelHold is not null) _ = call.Completion.Task.ContinueWith(_ => modelHold.Dispose(), TaskScheduler.Default);
        return stream;
    }

    /// <summary>Where a memory's answer prompt keeps its KV: under the memory's key (so DELETE drops it
    /// with the scoring passes' entries), in a sub-key of its own so it neither replaces nor is
    /// replaced by them. The next turn's prompt starts with the same memory text while the memory's
    /// front is unchanged, and prefills only from where it differs (the engine ignores the key for
    /// an adapter, a whole model or images).</summary>
    internal static string AnswerPrefixKey(Memory.MemoryLease memory) => Memory.MemoryService.PrefixKey(memory.State) + "/answer";

    /// <summary>Reads the tokens as they come, streaming each choice's chunks when
    /// <paramref name="events"/> is set. False when the client left before the end.</summary>
    static async Task<bool> DecodeAsync(DecodeStream stream, CompletionChoice[] choices, IRenderer? renderer, OpenAiChunks chunks,
        OpenAiRequest request, ServerSentEvents? events, ServedLog served, Observability.TokenLatency latency, CancellationToken aborted)
    {
        if (events is not null && request.Chat)
            foreach (var c in choices) await events.SendAsync(chunks.ChatRole(c.Index));
        try
        {
            await foreach (var e in stream.Events.ReadAllAsync(CancellationToken.None))
            {
                served.FirstToken();
                latency.Token(e.Sample);
                var chunk = choices[e.Sample].Advance(e, renderer, chunks, request);
                if (events is not null && chunk is not null) await events.SendAsync(chunk);
            }
            return true;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            foreach (var c in choices.Where(c => c.FinishReason is null)) c.FinishReason = "cancelled";
            return false;
        }
    }
}
