using System.Text.Json;
using Whetstone.Chat;

namespace Whetstone.Service.OpenAi;

/// <summary>A /v1/completions or /v1/chat/completions request, read and checked field by field
/// (bad input → 400 naming the field, before anything is queued). Fields OpenAI defines that we
/// cannot honour are refused by name rather than ignored; fields we do not know are ignored, as
/// OpenAI's own server does.</summary>
internal sealed record OpenAiRequest
{
    public const int MaxStopStrings = 4;
    public const int MaxTopLogprobsChat = 20;
    public const int MaxLogprobsCompletions = 5;

    public required bool Chat { get; init; }
    public required string Model { get; init; }
    /// <summary>Chat: the conversation.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    /// <summary>Completions: the prompt as text, or as token ids.</summary>
    public string? PromptText { get; init; }
    public IReadOnlyList<int>? PromptTokens { get; init; }
    /// <summary>The prompt or messages exactly as sent, for the completion log.</summary>
    public required string RequestJson { get; init; }
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

    static ApiError Bad(string field, string reason) => ApiError.BadRequest(field, reason);

    public static OpenAiRequest Read(JsonElement root, bool chat)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad("body", "must be a JSON object");
        string model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String && m.GetString()!.Length > 0
            ? m.GetString()! : throw Bad("model", "is required (a base model, a whet:// sampler checkpoint or a deployment name@latest / name@vN)");

        IReadOnlyList<ChatMessage>? messages = null;
        string? promptText = null;
        IReadOnlyList<int>? promptTokens = null;
        string requestJson;
        if (chat)
        {
            if (!root.TryGetProperty("messages", out var ms) || ms.ValueKind != JsonValueKind.Array || ms.GetArrayLength() == 0)
                throw Bad("messages", "is required: a non-empty array of messages");
            messages = ms.EnumerateArray().Select((e, i) => ReadMessage(e, $"messages[{i}]")).ToArray();
            requestJson = ms.GetRawText();
        }
        else
        {
            if (!root.TryGetProperty("prompt", out var p)) throw Bad("prompt", "is required");
            (promptText, promptTokens) = ReadPrompt(p);
            requestJson = p.GetRawText();
        }

        int? maxTokens = OptionalInt(root, "max_completion_tokens") ?? OptionalInt(root, "max_tokens");
        if (maxTokens is < 1) throw Bad(root.TryGetProperty("max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens", $"= {maxTokens} must be at least 1");
        double temperature = OptionalDouble(root, "temperature") ?? 1;
        if (temperature is < 0 or > 2) throw Bad("temperature", $"= {temperature} must be between 0 and 2");
        double topP = OptionalDouble(root, "top_p") ?? 1;
        if (topP is <= 0 or > 1) throw Bad("top_p", $"= {topP} must be in (0, 1]");
        int n = OptionalInt(root, "n") ?? 1;
        if (n is < 1 or > Engine.Sampling.Sampler.MaxSamplesPerRequest) throw Bad("n", $"= {n} must be between 1 and {Engine.Sampling.Sampler.MaxSamplesPerRequest}");
        long? seed = OptionalLong(root, "seed");

        bool logprobs;
        int top;
        if (chat)
        {
            logprobs = OptionalBool(root, "logprobs") ?? false;
            top = OptionalInt(root, "top_logprobs") ?? 0;
            if (top is < 0 or > MaxTopLogprobsChat) throw Bad("top_logprobs", $"= {top} must be between 0 and {MaxTopLogprobsChat}");
            if (top > 0 && !logprobs) throw Bad("top_logprobs", "needs logprobs: true");
        }
        else
        {
            int? count = OptionalInt(root, "logprobs");
            if (count is < 0 or > MaxLogprobsCompletions) throw Bad("logprobs", $"= {count} must be between 0 and {MaxLogprobsCompletions}");
            logprobs = count is not null;
            top = count ?? 0;
        }

        bool stream = OptionalBool(root, "stream") ?? false;
        bool includeUsage = false;
        if (root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object)
        {
            if (!stream) throw Bad("stream_options", "is only allowed with stream: true");
            includeUsage = OptionalBool(so, "include_usage", "stream_options.") ?? false;
        }

        RefuseUnsupported(root, chat);
        return new OpenAiRequest
        {
            Chat = chat, Model = model, Messages = messages, PromptText = promptText, PromptTokens = promptTokens, RequestJson = requestJson,
            MaxTokens = maxTokens, Temperature = temperature, TopP = topP, N = n, Stop = ReadStop(root),
            // OpenAI seeds are 64-bit; ours are 32-bit: fold the high half in so every seed is accepted and distinct ones rarely collide.
            Seed = seed is { } s ? unchecked((int)(s ^ (s >> 32))) : null,
            Logprobs = logprobs, TopLogprobs = top, Stream = stream, IncludeUsage = includeUsage,
            User = root.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null,
        };
    }

    // What would change the output in ways we do not implement: refused, so no caller gets a
    // silently different answer than the one it asked for.
    static void RefuseUnsupported(JsonElement root, bool chat)
    {
        foreach (var name in new[] { "frequency_penalty", "presence_penalty" })
            if (OptionalDouble(root, name) is { } v && v != 0) throw Bad(name, "is not supported (only 0)");
        if (root.TryGetProperty("logit_bias", out var bias) && bias.ValueKind == JsonValueKind.Object && bias.EnumerateObject().Any())
            throw Bad("logit_bias", "is not supported");
        if (OptionalInt(root, "best_of") is > 1) throw Bad("best_of", "is not supported (use n)");
        if (OptionalBool(root, "echo") == true) throw Bad("echo", "is not supported");
        if (!string.IsNullOrEmpty(root.TryGetProperty("suffix", out var suffix) && suffix.ValueKind == JsonValueKind.String ? suffix.GetString() : null))
            throw Bad("suffix", "is not supported");
        if (root.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object)
        {
            string type = format.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
            if (type != "text")
                throw Bad("response_format", $"type '{type}' is not supported: constrained (JSON) decoding is not implemented; use 'text'");
        }
        if (chat && root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
            throw Bad("tools", "is not supported: the chat renderers do not render tool definitions into the prompt yet");
    }

    static ChatMessage ReadMessage(JsonElement e, string field)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Bad(field, "must be an object");
        string role = e.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : throw Bad(field + ".role", "is required");
        if (role == "developer") role = "system";   // OpenAI's newer name for the system role
        if (role is not ("system" or "user" or "assistant" or "tool")) throw Bad(field + ".role", $"'{role}' must be system, developer, user, assistant or tool");
        string content = "";
        if (e.TryGetProperty("content", out var c))
        {
            content = c.ValueKind switch
            {
                JsonValueKind.String => c.GetString()!,
                JsonValueKind.Null => "",
                JsonValueKind.Array => string.Concat(c.EnumerateArray().Select((part, i) =>
                    part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.GetString() == "text"
                        && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
                        ? text.GetString()
                        : throw Bad($"{field}.content[{i}]", "only text parts are supported"))),
                _ => throw Bad(field + ".content", "must be a string or an array of text parts"),
            };
        }
        else if (role != "assistant") throw Bad(field + ".content", "is required");
        string? reasoning = e.TryGetProperty("reasoning_content", out var rc) && rc.ValueKind == JsonValueKind.String ? rc.GetString() : null;
        List<ToolCall>? calls = null;
        if (e.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
        {
            calls = [];
            int i = 0;
            foreach (var call in tc.EnumerateArray())
            {
                string at = $"{field}.tool_calls[{i++}].function";
                if (!call.TryGetProperty("function", out var f) || f.ValueKind != JsonValueKind.Object) throw Bad(at, "is required");
                string name = f.TryGetProperty("name", out var fn) && fn.ValueKind == JsonValueKind.String ? fn.GetString()! : throw Bad(at + ".name", "is required");
                string arguments = f.TryGetProperty("arguments", out var fa) && fa.ValueKind == JsonValueKind.String ? fa.GetString()! : "{}";
                try { using var _ = JsonDocument.Parse(arguments); }
                catch (JsonException) { throw Bad(at + ".arguments", "must be a JSON object in a string"); }
                calls.Add(new ToolCall(name, arguments));
            }
        }
        return new ChatMessage(role, content) { Reasoning = reasoning, ToolCalls = calls is { Count: > 0 } ? calls : null };
    }

    static (string? Text, IReadOnlyList<int>? Tokens) ReadPrompt(JsonElement p)
    {
        switch (p.ValueKind)
        {
            case JsonValueKind.String:
                return (p.GetString()!, null);
            case JsonValueKind.Array when p.GetArrayLength() == 1 && p[0].ValueKind == JsonValueKind.String:
                return (p[0].GetString()!, null);
            case JsonValueKind.Array when p.GetArrayLength() == 1 && p[0].ValueKind == JsonValueKind.Array:
                return (null, Tokens(p[0], "prompt[0]"));
            case JsonValueKind.Array when p.GetArrayLength() > 0 && p.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number):
                return (null, Tokens(p, "prompt"));
            case JsonValueKind.Array when p.GetArrayLength() > 1:
                throw Bad("prompt", "holds several prompts: send one prompt per request (use n for several completions)");
            default:
                throw Bad("prompt", "must be a string or an array of token ids");
        }
    }

    static int[] Tokens(JsonElement array, string field) =>
        array.EnumerateArray().Select((t, i) => t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out int id)
            ? id : throw Bad($"{field}[{i}]", "must be an integer token id")).ToArray();

    static IReadOnlyList<string> ReadStop(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out var s) || s.ValueKind == JsonValueKind.Null) return [];
        string[] stops = s.ValueKind switch
        {
            JsonValueKind.String => [s.GetString()!],
            JsonValueKind.Array => s.EnumerateArray().Select((x, i) => x.ValueKind == JsonValueKind.String ? x.GetString()! : throw Bad($"stop[{i}]", "must be a string")).ToArray(),
            _ => throw Bad("stop", "must be a string or an array of strings"),
        };
        if (stops.Length > MaxStopStrings) throw Bad("stop", $"has {stops.Length} strings, at most {MaxStopStrings} are allowed");
        if (stops.Any(x => x.Length == 0)) throw Bad("stop", "contains an empty string");
        return stops;
    }

    static int? OptionalInt(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Bad(name, "must be an integer");

    static long? OptionalLong(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long i) ? i : throw Bad(name, "must be an integer");

    static double? OptionalDouble(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Bad(name, "must be a number");

    static bool? OptionalBool(JsonElement root, string name, string prefix = "") =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Bad(prefix + name, "must be true or false");
}
