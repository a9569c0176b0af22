using System.Text.Json;
using System.Text.Json.Serialization;

namespace Whetstone.Protocol.OpenAi;

/// <summary>The sampling fields /v1/completions and /v1/chat/completions share. Every field is
/// optional on the wire; the service checks them and refuses a bad or unsupported one by name.
/// Fields we do not know are ignored, as OpenAI's own server does.</summary>
public abstract record OpenAiSamplingRequest
{
    public string? Model { get; init; }
    public int? MaxTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? N { get; init; }
    [JsonConverter(typeof(StopSequencesJson))]
    public IReadOnlyList<string>? Stop { get; init; }
    public long? Seed { get; init; }
    public bool? Stream { get; init; }
    public StreamOptions? StreamOptions { get; init; }
    public string? User { get; init; }
    // Fields that would change the output in ways the service does not implement: read so that
    // a request using them is refused by name rather than silently answered differently.
    public double? FrequencyPenalty { get; init; }
    public double? PresencePenalty { get; init; }
    public Dictionary<string, double>? LogitBias { get; init; }
    public ResponseFormat? ResponseFormat { get; init; }
}

/// <summary>POST /v1/chat/completions.</summary>
public sealed record ChatCompletionRequest : OpenAiSamplingRequest
{
    public IReadOnlyList<OpenAiMessage>? Messages { get; init; }
    /// <summary>OpenAI's newer name for max_tokens; wins when both are sent.</summary>
    public int? MaxCompletionTokens { get; init; }
    public bool? Logprobs { get; init; }
    public int? TopLogprobs { get; init; }
    public IReadOnlyList<JsonElement>? Tools { get; init; }
    /// <summary>Whetstone's extension: answer from, and update, a Memory Diffusion memory.</summary>
    public ChatMemoryOptions? Memory { get; init; }
    /// <summary>"none", "auto", "required", or {"type": "function", "function": {"name": …}}.</summary>
    public JsonElement? ToolChoice { get; init; }
}

/// <summary>POST /v1/completions. logprobs is a number here: how many alternatives per token.</summary>
public sealed record CompletionRequest : OpenAiSamplingRequest
{
    /// <summary>A string, or token ids; one prompt per request.</summary>
    public CompletionPrompt? Prompt { get; init; }
    public int? Logprobs { get; init; }
    public int? BestOf { get; init; }
    public bool? Echo { get; init; }
    public string? Suffix { get; init; }
}

public sealed record StreamOptions(bool? IncludeUsage);

/// <summary>response_format: "text", "json_object", or "json_schema" with <see cref="JsonSchema"/>.</summary>
public sealed record ResponseFormat(string? Type)
{
    public JsonSchemaFormat? JsonSchema { get; init; }
}

/// <summary>response_format.json_schema: the schema the answer must be an instance of.</summary>
public sealed record JsonSchemaFormat(string? Name, JsonElement? Schema, bool? Strict, string? Description);

/// <summary>One message of a chat request. content: a string, text parts, or null (an assistant
/// turn that only calls tools); role "developer" is OpenAI's newer name for "system".</summary>
public sealed record OpenAiMessage
{
    public string? Role { get; init; }
    public MessageContent? Content { get; init; }
    /// <summary>An assistant's earlier reasoning (Qwen3's &lt;think&gt; block).</summary>
    public string? ReasoningContent { get; init; }
    public IReadOnlyList<OpenAiToolCall>? ToolCalls { get; init; }
    /// <summary>A tool message's answer to which call (Kimi K2's template writes it).</summary>
    public string? ToolCallId { get; init; }
}

/// <summary>A message's content: plain text, or parts of which only "text" ones are supported.</summary>
[JsonConverter(typeof(MessageContentJson))]
public sealed record MessageContent(string? Text, IReadOnlyList<ContentPart>? Parts);

public sealed record ContentPart(string? Type, string? Text)
{
    /// <summary>An "image_url" part's url (only data: URLs are accepted).</summary>
    public string? ImageUrl { get; init; }
}

/// <summary>A completions prompt as sent: text(s) or token-id list(s). More than one is refused.</summary>
[JsonConverter(typeof(CompletionPromptJson))]
public sealed record CompletionPrompt(IReadOnlyList<string>? Texts, IReadOnlyList<int[]>? TokenLists);

/// <summary>A tool call: in a request's assistant message, in a response (index only when streamed).</summary>
public sealed record OpenAiToolCall(string? Id, string? Type, OpenAiFunctionCall? Function)
{
    public int? Index { get; init; }
}

public sealed record OpenAiFunctionCall(string? Name, string? Arguments);
