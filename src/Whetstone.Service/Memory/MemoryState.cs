namespace Whetstone.Service.Memory;

/// <summary>A Memory Diffusion memory: at most <see cref="BudgetTokens"/> tokens, in spans kept in
/// the order they were first said. It lives in the model's context (the answer prompt holds it
/// whole); the service stores it as metadata and holds no tensor of it.</summary>
internal sealed record MemoryState(string Id, string Tenant, string BaseModel, int BudgetTokens, int Seed, DateTimeOffset CreatedAt)
{
    /// <summary>Turns folded in so far.</summary>
    public int Turn { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public IReadOnlyList<MemorySpan> Spans { get; init; } = [];
    public MemoryTurnWork? LastTurnWork { get; init; }
    /// <summary>Turns of the whole history that said each word, in <see cref="HistoryWordCounts.Buckets"/> buckets (empty before the first turn).</summary>
    public IReadOnlyList<int> WordCounts { get; init; } = [];
    /// <summary>The mask's scorer; null: the heuristic.</summary>
    public MemoryScorerChoice? Scorer { get; init; }

    public int TokenCount => Spans.Sum(s => s.Tokens.Count);

    public IReadOnlyList<int> Tokens => [.. Spans.SelectMany(s => s.Tokens)];
}

/// <summary>One entry of the operation log an update writes.</summary>
internal sealed record MemoryOperation(int Turn, string Operation, string? SpanId, string Detail);

/// <summary>A memory's learned scorer: the value-head run it reads, and the API key that chose it
/// (its score calls are accounted to that key, within the memory's tenant).</summary>
internal sealed record MemoryScorerChoice(string RunId, string ApiKeyId);
