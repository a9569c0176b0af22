using System.Text.Json;

namespace Whetstone.Protocol.OpenAi;

/// <summary>An entry of the served-completion log (GET /v1/completion_log, and one line of its
/// JSONL export): the prompt as sent and as tokens, each choice's tokens, logprobs and text, the
/// sampling parameters used — ready to become SFT or RL data.</summary>
public sealed record ServedCompletion(string Id, string Endpoint, string Model, string BaseModel, DateTimeOffset CreatedAt)
{
    public string Object => "served_completion";
    public string? CheckpointPath { get; init; }
    /// <summary>name@vN when the request named a deployment.</summary>
    public string? Deployment { get; init; }
    public string? User { get; init; }
    /// <summary>The completions endpoint's prompt as sent; null for chat.</summary>
    public JsonElement? Prompt { get; init; }
    /// <summary>The chat endpoint's messages as sent; null for completions.</summary>
    public JsonElement? Messages { get; init; }
    public required IReadOnlyList<int> PromptTokens { get; init; }
    public required IReadOnlyList<ServedChoice> Choices { get; init; }
    public required ServedParams Params { get; init; }
    public double LatencySeconds { get; init; }
    public double? TimeToFirstTokenSeconds { get; init; }
    /// <summary>Under a canary split of name@latest: "stable" or "candidate".</summary>
    public string? Arm { get; init; }
}

/// <summary>One choice as sampled: every token (end-of-turn included) with its logprob, the text
/// and, for chat, the message the renderer parsed from it.</summary>
public sealed record ServedChoice(int Index, IReadOnlyList<int> Tokens, IReadOnlyList<float> Logprobs, string Text, string? FinishReason)
{
    public AssistantMessage? Message { get; init; }
}

/// <summary>The sampling parameters a completion was served with (defaults filled in).</summary>
public sealed record ServedParams(int MaxTokens, double Temperature, double TopP, int N, int Seed, IReadOnlyList<string> Stop,
    bool Stream, bool Logprobs, int TopLogprobs);

/// <summary>POST /v1/feedback: on a completion of the caller's tenant. type: thumbs_up,
/// thumbs_down, rating (with rating), correction (with correction, the better answer) or
/// preference (completion_id preferred over rejected_completion_id).</summary>
public sealed record FeedbackRequest
{
    public string? CompletionId { get; init; }
    public string? Type { get; init; }
    public int? ChoiceIndex { get; init; }
    public double? Rating { get; init; }
    public string? Correction { get; init; }
    public string? RejectedCompletionId { get; init; }
    public string? Comment { get; init; }
}

/// <summary>Feedback as stored and listed (GET /v1/feedback and its JSONL export).</summary>
public sealed record Feedback(string Id, string CompletionId, string Type, int ChoiceIndex, DateTimeOffset CreatedAt)
{
    public string Object => "feedback";
    public double? Rating { get; init; }
    public string? Correction { get; init; }
    public string? RejectedCompletionId { get; init; }
    public string? Comment { get; init; }
}
