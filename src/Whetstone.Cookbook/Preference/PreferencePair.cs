using Whetstone.Chat;

namespace Whetstone.Cookbook.Preference;

/// <summary>A prompt with two answers, the first preferred by the oracle (here: the task's
/// verifiable correctness — the chosen answer is right, the rejected one wrong).</summary>
public sealed record PreferencePair(string Task, IReadOnlyList<ChatMessage> Prompt, string Chosen, string Rejected, string Answer);

/// <summary>One answer with a thumbs-up (true) or thumbs-down (false) label.</summary>
public sealed record RatedResponse(string Task, IReadOnlyList<ChatMessage> Prompt, string Response, bool ThumbsUp);
