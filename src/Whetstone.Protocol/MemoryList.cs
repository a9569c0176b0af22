namespace Whetstone.Protocol;

/// <summary>GET /api/v1/memories: one page of the caller's memories, newest first. Each entry is a
/// summary; GET /api/v1/memories/{id} has the spans and the operation log.</summary>
public sealed record MemoryList(IReadOnlyList<MemorySummary> Memories, Cursor Cursor);

/// <summary>A memory at a glance: its base model, budget, turns folded in and the tokens (in how
/// many spans) it holds now.</summary>
public sealed record MemorySummary(
    string Id, string BaseModel, int BudgetTokens, int Turn, int MemoryTokens, int SpanCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
