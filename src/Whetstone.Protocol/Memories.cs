namespace Whetstone.Protocol;

/// <summary>GET /api/v1/memories/{id}: a Memory Diffusion memory — its spans (what the model keeps
/// in context, at most <see cref="BudgetTokens"/> tokens in all), their retention scores and edits,
/// the work of the last turn, and the most recent operations of its log.</summary>
public sealed record MemoryInfo(
    string Id, string BaseModel, int BudgetTokens, int Turn, int MemoryTokens, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<MemorySpanInfo> Spans, MemoryTurnWorkInfo? LastTurnWork, IReadOnlyList<MemoryOperationInfo> Operations)
{
    /// <summary>The scorer its mask uses (<see cref="MemoryScorer"/>).</summary>
    public MemoryScorer Scorer { get; init; } = new(MemoryScorer.Heuristic);
}

/// <summary>One span: where it came from, what it holds now, how valuable the scorer found it,
/// and how it was edited (verbatim, compressed by the model, compressed extractively).</summary>
public sealed record MemorySpanInfo(
    string Id, int OriginTurn, DateTimeOffset OriginTime, string Text, IReadOnlyList<int> Tokens, double Retention,
    string Form, IReadOnlyList<string> FactKeys, IReadOnlyList<string> Edits);

/// <summary>Tokens processed by one turn's update, by stage: the measure of an O(B) turn.</summary>
/// <see cref="ScoringReusedTokens"/>: scoring tokens whose KV the engine kept from an earlier pass
/// (the unchanged prefix of the memory), so <see cref="PrefilledTokens"/> is what was computed.
public sealed record MemoryTurnWorkInfo(int ScoringTokens, int ScoringCalls, int RefillPromptTokens, int RefillGeneratedTokens, int AnswerPromptTokens,
    int ScoringReusedTokens = 0)
{
    public int TotalTokens => ScoringTokens + RefillPromptTokens + RefillGeneratedTokens + AnswerPromptTokens;
    public int PrefilledTokens => TotalTokens - ScoringReusedTokens;
}

/// <summary>One entry of a memory's operation log (turn, add, keep, compress, drop, supersede, score).</summary>
public sealed record MemoryOperationInfo(long Sequence, int Turn, string Operation, string? SpanId, string Detail, DateTimeOffset At);
