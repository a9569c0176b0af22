namespace Whetstone.Chat;

/// <summary>One turn of a conversation. Roles: system, user, assistant, tool.</summary>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>An assistant's reasoning (Qwen3's &lt;think&gt; block), kept apart from the answer.</summary>
    public string? Reasoning { get; init; }
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }
    /// <summary>A tool result's call id (OpenAI's tool_call_id); Kimi K2's template writes it.</summary>
    public string? ToolCallId { get; init; }

    public static ChatMessage System(string content) => new("system", content);
    public static ChatMessage User(string content) => new("user", content);
    public static ChatMessage Assistant(string content) => new("assistant", content);
}

/// <summary>A function call the assistant emits: its name and its arguments as a JSON object.</summary>
public sealed record ToolCall(string Name, string ArgumentsJson)
{
    /// <summary>The call's id, when the caller or the model gave one (Kimi K2 writes functions.NAME:INDEX).</summary>
    public string? Id { get; init; }
}

/// <summary>Which tokens of a conversation a supervised example trains on (weight 1); the rest
/// are context (weight 0). Headers never train; an assistant turn trains its content and its
/// end-of-turn token, so the model learns to stop.</summary>
public enum TrainOnWhat { LastAssistantMessage, AllAssistantMessages, AllMessages }

/// <summary>Tokens with one loss weight per token.</summary>
public sealed record SupervisedExample(IReadOnlyList<int> Tokens, IReadOnlyList<float> Weights);
