namespace Whetstone.Service.Memory;

/// <summary>Where refill gets its compressed text.</summary>
internal enum RefillMode
{
    /// <summary>The model rewrites the span; its rewrite is checked and the extractive method replaces a failed one.</summary>
    ModelThenExtractive,
    /// <summary>Only the extractive method (highest-value tokens), e.g. for models known to be too weak to rewrite.</summary>
    Extractive,
}

/// <summary>The knobs of mask → allocate → refill. The caps on spans and probe length are what
/// keep a turn's work a function of B alone.</summary>
internal sealed record MemoryPolicy
{
    /// <summary>A compressed span keeps at least this many tokens; with less room it is dropped.</summary>
    public int MinCompressedTokens { get; init; } = 4;
    /// <summary>A compressed span gets at most this fraction of its length (so compression is real).</summary>
    public double CompressRatio { get; init; } = 0.5;
    /// <summary>At most this many spans (the scorer runs one pass per span).</summary>
    public int MaxSpans { get; init; } = 16;
    /// <summary>retention ← max(loss increase now, decay × retention before).</summary>
    public double RetentionDecay { get; init; } = 0.9;
    /// <summary>The probe is the last this-many tokens of the new turn.</summary>
    public int MaxProbeTokens { get; init; } = 64;
    public RefillMode Refill { get; init; } = RefillMode.ModelThenExtractive;
    /// <summary>A model rewrite is accepted when at least this fraction of its words occur in the
    /// span it rewrites (grounded, not invented) and it has at least one word.</summary>
    public double GroundedFraction { get; init; } = 0.8;

    /// <summary>retention = loss increase + this × <see cref="SpanSalience"/> (0: the model's signal alone).</summary>
    public double SalienceWeight { get; init; } = 0.5;

    /// <summary>A line the model itself said (speaker "assistant") is worth this fraction of its score:
    /// the model wrote it from the memory it had, so it adds little the memory does not hold, and a
    /// weak model's answers are noise. 1: no discount.</summary>
    public double OwnAnswerWeight { get; init; } = 0.1;

    /// <summary>Spans kept verbatim stay at the front, in their order; spans rewritten this turn move
    /// behind them (before the new turn's). The engine reuses the KV of the memory's unchanged
    /// prefix across turns, and a span rewritten in the middle would end that prefix there. The
    /// price: the memory is no longer in the order things were said (each span keeps its origin
    /// turn). false: chronological order, less reuse.</summary>
    public bool StableSpansFirst { get; init; } = true;

    public static MemoryPolicy Default { get; } = new();
}
