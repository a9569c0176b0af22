using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Whetstone.Chat;
using Whetstone.Engine.Sampling;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;
using Whetstone.Service.Scheduling;
using Whetstone.Service.Serving;
using Whetstone.Tokenization;

namespace Whetstone.Service.OpenAi;

/// <summary>Serves /v1/completions and /v1/chat/completions: resolves the model (base, sampler
/// checkpoint or deployment — the named checkpoint's adapter is always the one applied), renders
/// chats with the model's renderer, sends the request into its base model's running decode
/// batch, answers as one JSON body or as server-sent events, and records every answer in the
/// served-completion log before the response ends (so feedback can name it at once).</summary>
internal sealed class OpenAiCompletionService(ServiceContext context, ServedModelResolver resolver)
{
    /// <summary>Chat requests without max_tokens may use the context that is left, up to this.</summary>
    public const int DefaultChatMaxTokens = 4096;
    /// <summary>OpenAI's default for /v1/completions.</summary>
    public const int DefaultCompletionMaxTokens = 16;

    sealed class Choice(int index, ChoiceText text, ChatDeltaSplitter? splitter)
    {
        public int Index { get; } = index;
        public ChoiceText Text { get; } = text;
        public ChatDeltaSplitter? Splitter { get; } = splitter;
        public List<TokenEvent> Events { get; } = [];
        public string? FinishReason { get; set; }
        public ChatMessage? Message { get; set; }
    }

    public async Task ServeAsync(HttpContext http, Caller caller, OpenAiRequest request)
    {
        var clock = Stopwatch.StartNew();
        var created = DateTimeOffset.UtcNow;
        using var target = await resolver.ResolveAsync(caller, request.Model);
        var scheduler = context.Scheduler(target.BaseModel);
        var tokenizer = scheduler.Model.Tokenizer;
        IRenderer? renderer = null;
        IReadOnlyList<int> prompt;
        if (request.Chat)
        {
            try { renderer = RendererFactory.For(tokenizer); }
            catch (ArgumentException e) { throw ApiError.BadRequest("model", $"'{request.Model}' has no chat template we can render ({e.Message}); use /v1/completions"); }
            prompt = renderer.BuildGenerationPrompt(request.Messages!);
        }
        else
        {
            prompt = request.PromptTokens ?? tokenizer.Encode(request.PromptText!);
            if (prompt.Count == 0) throw ApiError.BadRequest("prompt", "is empty");
        }
        int contextLength = scheduler.Model.Config.MaxPositionEmbeddings;
        int maxTokens = request.MaxTokens ?? (request.Chat ? Math.Clamp(contextLength - prompt.Count, 1, DefaultChatMaxTokens) : DefaultCompletionMaxTokens);
        var parameters = new SamplingParams
        {
            MaxTokens = maxTokens, Temperature = request.Temperature, TopP = request.TopP, Stop = request.Stop,
            StopTokenIds = renderer?.StopTokenIds ?? [], Seed = request.Seed ?? Random.Shared.Next(),
        };
        var engineRequest = new SampleRequest(prompt, request.N, parameters) { Adapter = target.Adapter, TopLogprobs = request.TopLogprobs };
        try { scheduler.Sampler.Validate(engineRequest); }
        catch (SamplingArgumentException e) when (e.Field == "prompt" && request.Chat) { throw ApiError.BadRequest("messages", e.Message); }

        string id = (request.Chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        var stream = new DecodeStream(engineRequest, http.RequestAborted) { OwnModel = target.OwnModel, ModelHold = target.HoldModel() };
        try { scheduler.Enqueue(new DecodeItem(RequestFutures.NewRequestId(), stream)); }
        catch
        {
            stream.ModelHold?.Dispose();
            throw;
        }

        var hidden = new HashSet<int>([.. tokenizer.EosTokenIds, .. renderer?.StopTokenIds ?? []]);
        var choices = Enumerable.Range(0, request.N)
            .Select(i => new Choice(i, new ChoiceText(tokenizer, hidden, request.Stop), request.Chat ? new ChatDeltaSplitter() : null)).ToArray();
        var writer = request.Stream ? new ServerSentEvents(http) : null;
        var chunks = new OpenAiChunks(id, request, created, tokenizer);
        double? firstToken = null;
        bool cancelled = false;
        if (writer is not null)
        {
            await writer.StartAsync();
            if (request.Chat) foreach (var c in choices) await writer.SendAsync(chunks.ChatRole(c.Index));
        }
        try
        {
            await foreach (var e in stream.Events.ReadAllAsync(CancellationToken.None))
            {
                firstToken ??= clock.Elapsed.TotalSeconds;
                var chunk = Advance(choices[e.Sample], e, renderer, chunks, request);
                if (writer is not null && chunk is not null) await writer.SendAsync(chunk);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            cancelled = true;
            foreach (var c in choices.Where(c => c.FinishReason is null)) c.FinishReason = "cancelled";
        }

        var usage = new UsageTotals { PrefillTokens = prompt.Count, SampledTokens = choices.Sum(c => (long)c.Events.Count) };
        context.InBackground(() => context.Store.AddUsageAsync(caller.ApiKeyId, null, usage), "accounting a served completion");
        // The log entry is written before the answer ends: a client that got an id can give feedback on it.
        await context.Store.InsertServedCompletionAsync(LogRecord(id, caller, request, target, created, prompt, choices, parameters,
            clock.Elapsed.TotalSeconds, firstToken), CancellationToken.None);
        if (cancelled) return;
        var usageNode = Usage(prompt.Count, choices);
        if (writer is not null)
        {
            if (request.IncludeUsage) await writer.SendAsync(chunks.UsageOnly(usageNode));
            await writer.DoneAsync();
            return;
        }
        var body = request.Chat ? chunks.ChatResponse(choices.Select(c => ChatChoice(c, request, chunks)).ToArray(), usageNode)
            : chunks.TextResponse(choices.Select(c => TextChoice(c, request, chunks)).ToArray(), usageNode);
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString());
    }

    // One token of one choice: text released, chat deltas split, the chunk to stream (if any).
    static JsonObject? Advance(Choice c, TokenEvent e, IRenderer? renderer, OpenAiChunks chunks, OpenAiRequest request)
    {
        c.Events.Add(e);
        string piece = c.Text.Append(e.Token);
        if (e.Finished is { } reason)
        {
            piece += c.Text.Finish();
            c.FinishReason = reason == StopReason.Length ? "length" : "stop";
        }
        var logprobs = request.Logprobs && c.Text.Visible(e.Token) ? e : null;
        if (!request.Chat)
            return piece.Length > 0 || logprobs is not null || c.FinishReason is not null
                ? chunks.TextChunk(c.Index, piece, logprobs, c.FinishReason) : null;

        var (reasoning, content) = c.Splitter!.Append(piece);
        JsonArray? toolCalls = null;
        if (c.FinishReason is not null)
        {
            c.Message = renderer!.ParseText(c.Text.Text);
            var (r, t) = c.Splitter.Finish(c.Message.Reasoning, c.Message.Content);
            reasoning += r;
            content += t;
            if (c.Message.ToolCalls is { Count: > 0 } calls)
            {
                toolCalls = OpenAiChunks.ToolCalls(calls, withIndex: true);
                if (c.FinishReason == "stop") c.FinishReason = "tool_calls";
            }
        }
        return reasoning.Length > 0 || content.Length > 0 || logprobs is not null || toolCalls is not null || c.FinishReason is not null
            ? chunks.ChatChunk(c.Index, reasoning, content, toolCalls, logprobs, c.FinishReason) : null;
    }

    static JsonObject ChatChoice(Choice c, OpenAiRequest request, OpenAiChunks chunks)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = c.Message!.Content };
        if (c.Message.Reasoning is { } reasoning) message["reasoning_content"] = reasoning;
        if (c.Message.ToolCalls is { Count: > 0 } calls) message["tool_calls"] = OpenAiChunks.ToolCalls(calls, withIndex: false);
        var choice = new JsonObject { ["index"] = c.Index, ["message"] = message, ["finish_reason"] = c.FinishReason };
        choice["logprobs"] = request.Logprobs ? new JsonObject { ["content"] = new JsonArray(c.Events.Where(e => c.Text.Visible(e.Token)).Select(e => (JsonNode)chunks.ChatLogprob(e)).ToArray()) } : null;
        return choice;
    }

    static JsonObject TextChoice(Choice c, OpenAiRequest request, OpenAiChunks chunks) => new()
    {
        ["index"] = c.Index,
        ["text"] = c.Text.Text,
        ["finish_reason"] = c.FinishReason,
        ["logprobs"] = request.Logprobs ? chunks.TextLogprobs(c.Events.Where(e => c.Text.Visible(e.Token)).ToArray()) : null,
    };

    static JsonObject Usage(int promptTokens, Choice[] choices)
    {
        int completion = choices.Sum(c => c.Events.Count);
        return new JsonObject { ["prompt_tokens"] = promptTokens, ["completion_tokens"] = completion, ["total_tokens"] = promptTokens + completion };
    }

    static ServedCompletionRecord LogRecord(string id, Caller caller, OpenAiRequest request, ServedTarget target, DateTimeOffset created,
        IReadOnlyList<int> prompt, Choice[] choices, SamplingParams parameters, double latency, double? firstToken)
    {
        var choiceArray = new JsonArray(choices.Select(c =>
        {
            var node = new JsonObject
            {
                ["index"] = c.Index,
                ["tokens"] = new JsonArray(c.Events.Select(e => (JsonNode)e.Token).ToArray()),
                ["logprobs"] = new JsonArray(c.Events.Select(e => (JsonNode)e.Logprob).ToArray()),
                ["text"] = c.Text.Text,
                ["finish_reason"] = c.FinishReason,
            };
            if (c.Message is { } m)
            {
                var message = new JsonObject { ["role"] = "assistant", ["content"] = m.Content };
                if (m.Reasoning is not null) message["reasoning_content"] = m.Reasoning;
                if (m.ToolCalls is { Count: > 0 } calls) message["tool_calls"] = OpenAiChunks.ToolCalls(calls, withIndex: false);
                node["message"] = message;
            }
            return (JsonNode)node;
        }).ToArray());
        var sampling = new JsonObject
        {
            ["max_tokens"] = parameters.MaxTokens, ["temperature"] = parameters.Temperature, ["top_p"] = parameters.TopP,
            ["n"] = request.N, ["seed"] = parameters.Seed, ["stop"] = new JsonArray(request.Stop.Select(s => (JsonNode)s).ToArray()),
            ["stream"] = request.Stream, ["logprobs"] = request.Logprobs, ["top_logprobs"] = request.TopLogprobs,
        };
        return new ServedCompletionRecord(id, caller.Tenant, request.Chat ? "chat.completions" : "completions", request.Model, target.BaseModel, created)
        {
            CheckpointPath = target.CheckpointPath,
            Deployment = target.Deployment,
            User = request.User,
            RequestJson = request.RequestJson,
            PromptTokensJson = JsonSerializer.Serialize(prompt),
            ChoicesJson = choiceArray.ToJsonString(),
            ParamsJson = sampling.ToJsonString(),
            LatencySeconds = latency,
            TimeToFirstTokenSeconds = firstToken,
        };
    }
}
