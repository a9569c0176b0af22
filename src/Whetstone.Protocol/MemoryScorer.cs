namespace Whetstone.Protocol;

/// <summary>Which scorer a memory's mask uses, in <c>"memory": {"scorer": {...}}</c> on
/// /v1/chat/completions and in GET /api/v1/memories/{id}. <see cref="Kind"/> "heuristic" (the
/// default): the model's loss increase on the new turn plus history rarity. "learned": a value
/// head — the training run <see cref="Run"/> (one of the caller's, created with value_head, on the
/// memory's base model; e.g. SpanValueRecipe's) — scores every span as the memory holds it, and a
/// span's value is σ(the head's logit). The run is read as it is at each turn (after a restart, from
/// its last saved state).</summary>
public sealed record MemoryScorer(string Kind, string? Run = null)
{
    public const string Heuristic = "heuristic";
    public const string Learned = "learned";
}
