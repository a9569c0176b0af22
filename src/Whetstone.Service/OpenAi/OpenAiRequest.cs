using System.Text.Json;
using Whetstone.Chat;
using Whetstone.Service.Images;
using Whetstone.Protocol.OpenAi;
using static Whetstone.Engine.Sampling.Sampler;

namespace Whetstone.Service.OpenAi;

/// <summary>A /v1/completions or /v1/chat/completions request after its fields were checked
/// (bad input → 400 naming the field, before anything is queued), with OpenAI's defaults filled
/// in. Fields OpenAI defines that we cannot honour are refused by name rather than ignored.</summary>
internal sealed record OpenAiRequest
{
    public const int MaxStopStrings = 4;
    public const int MaxTopLogprobsChat = 20;
    public const int MaxLogprobsCompletions = 5;

    public required bool Chat { get; init; }
    public required string Model { get; init; }
    /// <summary>Chat: the conversation.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    /// <summary>Chat: the image_url parts, in order; each message holds a placeholder where its image was.</summary>
    public IReadOnlyList<ChatImage> Images { get; init; } = [];
    /// <summary>Completions: the prompt as text, or as token ids.</summary>
    public string? PromptText { get; init; }
    public IReadOnlyList<int>? PromptTokens { get; init; }
    /// <summary>The prompt or messages exactly as sent, for the completion log.</summary>
    public required JsonElement AsSent { get; init; }
    public int? MaxTokens { get; init; }
    public double Temperature { get; init; } = 1;
    public double TopP { get; init; } = 1;
    public int N { get; init; } = 1;
    public IReadOnlyList<string> Stop { get; init; } = [];
    public int? Seed { get; init; }
    public bool Logprobs { get; init; }
    /// <summary>How many alternatives per token (chat: top_logprobs; completions: the logprobs number).</summary>
    public int TopLogprobs { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public string? User { get; init; }
    /// <summary>Chat: Whetstone's memory extension (checked by <see cref="Whetstone.Service.Memory.MemoryService"/>).</summary>
    public ChatMemoryOptions? Memory { get; init; }
    /// <summary>logit_bias with its keys read as token ids.</summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = new Dictionary<int, float>();
    public double PresencePenalty { get; init; }
    public double FrequencyPenalty { get; init; }
    /// <summary>response_format json_object: the output is constrained to one JSON object.</summary>
    public bool JsonObject { get; init; }
    /// <summary>response_format json_schema: the output is constrained to instances of this schema.</summary>
    public Engine.Sampling.Json.JsonSchemaNode? JsonSchema { get; init; }
    /// <summary>Chat: the tool objects to render into the prompt, as JSON text (empty when tool_choice is "none").</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];
    /// <summary>Chat: tool_choice "required" or a named function: the answer must be one call to one of these.</summary>
    public IReadOnlyList<ForcedTool>? ForcedTools { get; init; }

    static ApiError Bad(string field, string reason) => ApiError.BadRequest(field, reason);

    public static OpenAiRequest From(ChatCompletionRequest r, JsonElement body)
    {
        var common = Common(r, chat: true, r.MaxCompletionTokens ?? r.MaxTokens, r.MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens");
        if (r.Messages is not { Count: > 0 } messages) throw Bad("messages", "is required: a non-empty array of messages");
        var tools = OpenAiTools.Read(r.Tools, r.ToolChoice);
        if (r.TopLogprobs is < 0 or > MaxTopLogprobsChat) throw Bad("top_logprobs", $"= {r.TopLogprobs} must be between 0 and {MaxTopLogprobsChat}");
        if (r.TopLogprobs > 0 && r.Logprobs != true) throw Bad("top_logprobs", "needs logprobs: true");
        if (r.Memory is not null && r.N is > 1) throw Bad("n", $"= {r.N} must be 1 with memory (one answer is folded into the memory)");
        var images = new List<ChatImage>();
        return common with
        {
            Memory = r.Memory,
            Messages = messages.Select((m, i) => Message(m, $"messages[{i}]", images)).ToArray(),
            Images = images,
            AsSent = body.GetProperty("messages").Clone(),
            Logprobs = r.Logprobs ?? false,
            TopLogprobs = r.TopLogprobs ?? 0,
            Tools = tools.Rendered,
            ForcedTools = tools.Forced,
        };
    }

    public static OpenAiRequest From(CompletionRequest r, JsonElement body)
    {
        var common = Common(r, chat: false, r.MaxTokens, "max_tokens");
        if (r.Prompt is not { } prompt) throw Bad("prompt", "is required");
        if ((prompt.Texts?.Count ?? prompt.TokenLists!.Count) > 1)
            throw Bad("prompt", "holds several prompts: send one prompt per request (use n for several completions)");
        if (r.Logprobs is < 0 or > MaxLogprobsCompletions) throw Bad("logprobs", $"= {r.Logprobs} must be between 0 and {MaxLogprobsCompletions}");
        if (r.BestOf is > 1) throw Bad("best_of", "is not supported (use n)");
        if (r.Echo == true) throw Bad("echo", "is not supported");
        if (!string.IsNullOrEmpty(r.Suffix)) throw Bad("suffix", "is not supported");
        return common with
        {
            PromptText = prompt.Texts?[0],
            PromptTokens = prompt.TokenLists?[0],
            AsSent = body.GetProperty("prompt").Clone(),
            Logprobs = r.Logprobs is not null,
            TopLogprobs = r.Logprobs ?? 0,
        };
    }

    // The fields both endpoints share, checked in the order a reader of the request meets them.
    static OpenAiRequest Common(OpenAiSamplingRequest r, bool chat, int? maxTokens, string maxTokensField)
    {
        if (string.IsNullOrEmpty(r.Model)) throw Bad("model", "is required (a base model, a whet:// sampler checkpoint or a deployment name@latest / name@vN)");
        if (maxTokens is < 1) throw Bad(maxTokensField, $"= {maxTokens} must be at least 1");
        if (r.Temperature is < 0 or > 2) throw Bad("temperature", $"= {r.Temperature} must be between 0 and 2");
        if (r.TopP is <= 0 or > 1) throw Bad("top_p", $"= {r.TopP} must be in (0, 1]");
        if (r.N is < 1 or > MaxSamplesPerRequest) throw Bad("n", $"= {r.N} must be between 1 and {MaxSamplesPerRequest}");
        if (r.StreamOptions is not null && r.Stream != true) throw Bad("stream_options", "is only allowed with stream: true");
        if (r.Stop is { Count: > MaxStopStrings } stops) throw Bad("stop", $"has {stops.Count} strings, at most {MaxStopStrings} are allowed");
        if (r.Stop?.Any(s => s.Length == 0) == true) throw Bad("stop", "contains an empty string");
        if (r.FrequencyPenalty is < -2 or > 2) throw Bad("frequency_penalty", $"= {r.FrequencyPenalty} must be between -2 and 2");
        if (r.PresencePenalty is < -2 or > 2) throw Bad("presence_penalty", $"= {r.PresencePenalty} must be between -2 and 2");
        var bias = new Dictionary<int, float>();
        foreach (var (key, value) in r.LogitBias ?? [])
        {
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                throw Bad("logit_bias", $"key '{key}' is not a token id");
            if (value is < -100 or > 100) throw Bad("logit_bias", $"[{key}] = {value} must be between -100 and 100");
            bias[id] = (float)value;
        }
        var (json, schema) = OpenAiResponseFormat.Read(r.ResponseFormat);
        return new OpenAiRequest
        {
            Chat = chat, Model = r.Model, AsSent = default, MaxTokens = maxTokens, Temperature = r.Temperature ?? 1, TopP = r.TopP ?? 1,
            N = r.N ?? 1, Stop = r.Stop ?? [],
            // OpenAI seeds are 64-bit; ours are 32-bit: fold the high half in so every seed is accepted and distinct ones rarely collide.
            Seed = r.Seed is { } s ? unchecked((int)(s ^ (s >> 32))) : null,
            Stream = r.Stream ?? false, IncludeUsage = r.StreamOptions?.IncludeUsage ?? false, User = r.User,
            LogitBias = bias, PresencePenalty = r.PresencePenalty ?? 0, FrequencyPenalty = r.FrequencyPenalty ?? 0, JsonObject = json, JsonSchema = schema,
        };
    }

    static ChatMessage Message(OpenAiMessage m, string field, List<ChatImage> images)
    {
        string role = m.Role ?? throw Bad(field + ".role", "is required");
        if (role == "developer") role = "system";   // OpenAI's newer name for the system role
        if (role is not ("system" or "user" or "assistant" or "tool")) throw Bad(field + ".role", $"'{role}' must be system, developer, user, assistant or tool");
        if (m.Content is null && role != "assistant") throw Bad(field + ".content", "is required");
        string content = m.Content?.Text ?? string.Concat((m.Content?.Parts ?? []).Select((part, i) => part switch
        {
            { Type: "text", Text: { } text } => text,
            { Type: "image_url" } when role == "user" => ImagePart(part, $"{field}.content[{i}].image_url.url", images),
            { Type: "image_url" } => throw Bad($"{field}.content[{i}]", "image parts are accepted in user messages only"),
            _ => throw Bad($"{field}.content[{i}]", "only text and image_url parts are supported"),
        }));
        var calls = (m.ToolCalls ?? []).Select((call, i) => ToolCall(call, $"{field}.tool_calls[{i}].function")).ToArray();
        return new ChatMessage(role, content) { Reasoning = m.ReasoningContent, ToolCalls = calls.Length > 0 ? calls : null, ToolCallId = m.ToolCallId };
    }

    // The image is read now (bad data: URLs are refused before anything else) and decoded once
    // the model's tower is known; the message keeps the family's placeholder in its place.
    static string ImagePart(ContentPart part, string field, List<ChatImage> images)
    {
        images.Add(ChatImage.FromDataUrl(part.ImageUrl, field, ImageLimits.Default));
        return ChatImage.Placeholder;
    }

    static ToolCall ToolCall(OpenAiToolCall call, string field)
    {
        var function = call.Function ?? throw Bad(field, "is required");
        string name = function.Name ?? throw Bad(field + ".name", "is required");
        string arguments = function.Arguments ?? "{}";
        try { using var _ = JsonDocument.Parse(arguments); }
        catch (JsonException) { throw Bad(field + ".arguments", "must be a JSON object in a string"); }
        return new ToolCall(name, arguments) { Id = call.Id };
    }
}
