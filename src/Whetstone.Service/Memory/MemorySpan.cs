namespace Whetstone.Service.Memory;

/// <summary>How a span's tokens came to be what they are now.</summary>
internal enum SpanForm
{
    /// <summary>The turn's tokens exactly as they were said.</summary>
    Verbatim,
    /// <summary>Rewritten by the model within its allotment (the renderer prompt in <see cref="SpanRefill"/>).</summary>
    ModelRewrite,
    /// <summary>The span's highest-value tokens kept in order (the fallback when the model's rewrite fails its check).</summary>
    Extractive,
}

/// <summary>One span of a memory: a run of tokens from one turn (one line of it: <see cref="SpanSplitter"/>), with where it came from, how
/// valuable the scorer last found it, and every edit it went through. Immutable: each turn's
/// update makes new spans, so a kept-verbatim span is the same token list object across turns.</summary>
internal sealed record MemorySpan(string Id, int OriginTurn, DateTimeOffset OriginTime, IReadOnlyList<int> Tokens)
{
    /// <summary>Retention score: how much the model's loss on later turns rose without this span
    /// (nats per probe token), decayed over turns so a span once needed fades slowly rather than at once.</summary>
    public double Retention { get; init; }
    /// <summary>Per token, its value for an extractive compression (the scorer's token value:
    /// the model's surprisal at the token in context); empty until the span was first scored.</summary>
    public IReadOnlyList<float> TokenValues { get; init; } = [];
    public SpanForm Form { get; init; } = SpanForm.Verbatim;
    /// <summary>The facts this span states (marked by the turn that made it); a later turn with the same key supersedes it.</summary>
    public IReadOnlyList<string> FactKeys { get; init; } = [];
    /// <summary>Who said it: the line's role label ("user", "assistant"), or null when the line has none (<see cref="SpanSplitter"/>).</summary>
    public string? Speaker { get; init; }
    /// <summary>"turn 3: compressed 40 → 12 tokens (extractive: …)", oldest first.</summary>
    public IReadOnlyList<string> Edits { get; init; } = [];
}
