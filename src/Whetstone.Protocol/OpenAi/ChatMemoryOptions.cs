namespace Whetstone.Protocol.OpenAi;

/// <summary>Whetstone's extension of /v1/chat/completions: <c>"memory": {"id": "...", "budget_tokens": 1024}</c>.
/// The server answers from the memory plus the new messages and updates the memory after the
/// turn. Without <see cref="Id"/> a new memory of <see cref="BudgetTokens"/> is created (its id
/// comes back in the response's <c>memory</c> field and the <c>Whetstone-Memory-Id</c> header).
/// <see cref="FactKeys"/> marks the facts this turn states (e.g. "user.city"): a later turn
/// marked with the same key supersedes the earlier span, so the latest value wins.
/// <see cref="Scorer"/> chooses the mask's scorer (stored with the memory; omitted: unchanged, and heuristic for a new memory).</summary>
public sealed record ChatMemoryOptions(string? Id, int? BudgetTokens, IReadOnlyList<string>? FactKeys = null)
{
    public MemoryScorer? Scorer { get; init; }
}

/// <summary>The memory a chat completion used, in its response.</summary>
public sealed record ChatMemoryUsed(string Id, int BudgetTokens, int MemoryTokens, int Turn);
