using System.Text.Json.Serialization;

namespace Whetstone.Protocol.OpenAi;

// OpenAI's response and stream-chunk shapes. Fields OpenAI always sends, even as null
// (finish_reason, logprobs, message content), are written as null rather than left out:
// OpenAI's own clients read them that way.

/// <summary>POST /v1/chat/completions without stream: object "chat.completion".</summary>
public sealed record ChatCompletion(string Id, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage Usage)
{
    public string Object => "chat.completion";
    /// <summary>Whetstone's extension: the memory this answer read (null without one).</summary>
    public ChatMemoryUsed? Memory { get; init; }
}

public sealed record ChatChoice(int Index, AssistantMessage Message, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ChatLogprobs? Logprobs { get; init; }
}

/// <summary>The assistant's answer, parsed by the model's renderer: reasoning apart, tool calls apart.</summary>
public sealed record AssistantMessage([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Content)
{
    public string Role => "assistant";
    public string? ReasoningContent { get; init; }
    public IReadOnlyList<OpenAiToolCall>? ToolCalls { get; init; }
}

/// <summary>One server-sent event of a streamed chat completion: object "chat.completion.chunk";
/// the last one (with stream_options.include_usage) has no choices and the usage.</summary>
public sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices)
{
    public string Object => "chat.completion.chunk";
    public Usage? Usage { get; init; }
}

public sealed record ChatChunkChoice(int Index, ChatDelta Delta, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason)
{
    public ChatLogprobs? Logprobs { get; init; }
}

/// <summary>What a chunk adds to the message; parts with nothing new are left out.</summary>
public sealed record ChatDelta
{
    public string? Role { get; init; }
    public string? Content { get; init; }
    public string? ReasoningContent { get; init; }
    public IReadOnlyList<OpenAiToolCall>? ToolCalls { get; init; }
}

/// <summary>/v1/completions, whole or as one stream event: object "text_completion".</summary>
public sealed record TextCompletion(string Id, long Created, string Model, IReadOnlyList<TextChoice> Choices)
{
    public string Object => "text_completion";
    public Usage? Usage { get; init; }
}

public sealed record TextChoice(int Index, string Text, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public TextLogprobs? Logprobs { get; init; }
}

public sealed record Usage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>Chat's logprobs: per token its text and exact bytes (a token may hold part of a
/// character: its text then has U+FFFD where the character is cut), with alternatives.</summary>
public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);

public sealed record ChatTokenLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes)
{
    /// <summary>The alternatives; null on the alternatives themselves.</summary>
    public IReadOnlyList<ChatTokenLogprob>? TopLogprobs { get; init; }
}

/// <summary>The completions endpoint's (legacy) logprobs: parallel arrays, alternatives as maps.</summary>
public sealed record TextLogprobs(
    IReadOnlyList<string> Tokens, IReadOnlyList<float> TokenLogprobs,
    IReadOnlyList<Dictionary<string, float>> TopLogprobs, IReadOnlyList<int> TextOffset);

/// <summary>GET /v1/models.</summary>
public sealed record ModelCard(string Id, long Created, string OwnedBy)
{
    public string Object => "model";
}

/// <summary>OpenAI's list envelope: {"object": "list", "data": [...]}.</summary>
public sealed record OpenAiList<T>(IReadOnlyList<T> Data)
{
    public string Object => "list";
}

/// <summary>OpenAI's error body, which its SDKs parse: {"error": {"message", "type", "param",
/// "code"}}, with RFC 9457 problem-details members beside it (title, status, detail) so a
/// generic HTTP client reads the same error.</summary>
public sealed record OpenAiErrorResponse(OpenAiError Error)
{
    public string? Title { get; init; }
    public int? Status { get; init; }
    public string? Detail { get; init; }
}

public sealed record OpenAiError(
    string Message, string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);
