namespace Whetstone.Service.Memory;

internal enum SpanAction { Keep, Compress, Drop }

/// <summary>What allocate decided for one span: keep verbatim, compress to <see cref="Tokens"/>, or drop.</summary>
internal sealed record SpanAllocation(MemorySpan Span, SpanAction Action, int Tokens, string Reason);

/// <summary>The allocate step: splits the budget B between the incoming turn (which always gets
/// its tokens: the new content is what the memory is updated with) and the old spans, in order of
/// retention (ties: newer first). A span that fits is kept verbatim; one that does not is
/// compressed to min(room, ⌈ratio × length⌉) tokens if that is at least the minimum; otherwise it
/// is dropped. If every span fits, nothing is touched.</summary>
internal static class BudgetAllocator
{
    public static IReadOnlyList<SpanAllocation> Allocate(IReadOnlyList<MemorySpan> spans, int incomingTokens, int budget, MemoryPolicy policy, int incomingSpans = 1)
    {
        if (incomingTokens > budget) throw new ArgumentOutOfRangeException(nameof(incomingTokens), $"{incomingTokens} tokens exceed the budget of {budget}");
        int room = budget - incomingTokens;
        int slots = Math.Max(0, policy.MaxSpans - incomingSpans);   // the incoming turn's spans take theirs first
        if (spans.Sum(s => s.Tokens.Count) <= room && spans.Count <= slots)
            return spans.Select(s => new SpanAllocation(s, SpanAction.Keep, s.Tokens.Count, "fits")).ToArray();

        var decisions = new Dictionary<MemorySpan, SpanAllocation>(ReferenceEqualityComparer.Instance);
        foreach (var span in spans.OrderByDescending(s => s.Retention).ThenByDescending(s => s.OriginTurn).ThenBy(s => s.Id, StringComparer.Ordinal))
        {
            int length = span.Tokens.Count;
            int compressed = Math.Min(room, Math.Max(policy.MinCompressedTokens, (int)Math.Ceiling(policy.CompressRatio * length)));
            SpanAllocation decision;
            if (slots == 0) decision = new(span, SpanAction.Drop, 0, $"no span slot left (at most {policy.MaxSpans} spans)");
            else if (length <= room) decision = new(span, SpanAction.Keep, length, $"fits in {room} tokens left");
            else if (compressed >= policy.MinCompressedTokens && compressed < length) decision = new(span, SpanAction.Compress, compressed, $"{length} tokens do not fit in {room} left");
            else decision = new(span, SpanAction.Drop, 0, $"{room} tokens left, fewer than the minimum of {policy.MinCompressedTokens}");
            if (decision.Action != SpanAction.Drop)
            {
                room -= decision.Tokens;
                slots--;
            }
            decisions[span] = decision;
        }
        return spans.Select(s => decisions[s]).ToArray();
    }
}
