using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Memory;

/// <summary>A memory to and from its metadata row: the spans (tokens, values, edits) and the last
/// turn's work as JSON, the rest in columns.</summary>
internal static class MemoryStateJson
{
    sealed record Stored(IReadOnlyList<MemorySpan> Spans, MemoryTurnWorkInfo? LastTurnWork, IReadOnlyList<int>? WordCounts = null, MemoryScorerChoice? Scorer = null);

    public static MemoryRecord ToRecord(MemoryState m) => new(m.Id, m.Tenant, m.BaseModel, m.BudgetTokens, m.Seed, m.Turn, m.CreatedAt, m.UpdatedAt,
        JsonSerializer.Serialize(new Stored(m.Spans, m.LastTurnWork?.ToProtocol(), m.WordCounts, m.Scorer), ProtocolJson.Options));

    public static MemoryState FromRecord(MemoryRecord r)
    {
        var stored = JsonSerializer.Deserialize<Stored>(r.StateJson, ProtocolJson.Options)
            ?? throw new InvalidDataException($"memory '{r.Id}' has no stored state");
        return new MemoryState(r.Id, r.Tenant, r.BaseModel, r.BudgetTokens, r.Seed, r.CreatedAt)
        {
            Turn = r.Turn, UpdatedAt = r.UpdatedAt, Spans = stored.Spans, WordCounts = stored.WordCounts ?? [], Scorer = stored.Scorer,
            LastTurnWork = stored.LastTurnWork is { } w ? MemoryTurnWork.FromProtocol(w) : null,
        };
    }
}
