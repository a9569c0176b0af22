namespace Whetstone.Service.Scheduling;

/// <summary>How a base model's cycles share the machine between training and decoding, and
/// decoding between its callers.</summary>
public sealed record SchedulingOptions
{
    /// <summary>Of the time learner passes take, the share decoding gets while a live (OpenAI API)
    /// answer decodes: 0.5 halves training throughput at worst and at most doubles a live answer's
    /// per-token latency. <see cref="BatchDecodeShare"/> applies while only batch sampling decodes.</summary>
    public double LiveDecodeShare { get; init; } = 0.5;
    public double BatchDecodeShare { get; init; } = 0.25;
    /// <summary>Decode steps a cycle runs while nothing else waits, before the planner looks again.</summary>
    public int IdleDecodeSteps { get; init; } = 8;
    /// <summary>Rows (samples) decoding at once on one base model; further calls wait to join.</summary>
    public int MaxDecodeRows { get; init; } = 256;
    /// <summary>Prompt tokens prefilled per cycle (at least one call always joins), so a burst of
    /// long prompts does not stall the rows already decoding.</summary>
    public int MaxPrefillTokensPerCycle { get; init; } = 8192;
    /// <summary>Deficit round-robin quantum: tokens an owner's deficit grows by each round.</summary>
    public long QuantumTokens { get; init; } = 512;
    /// <summary>Padded tokens per learner chunk while live answers wait or decode (decoding runs
    /// between chunks); otherwise the learner's default (2048) applies.</summary>
    public int LiveLearnerTokensPerChunk { get; init; } = 512;
    /// <summary>Live calls join before batch calls (they still share rows and prefill budget).</summary>
    public bool LiveFirst { get; init; } = true;

    public void Validate()
    {
        if (!(LiveDecodeShare > 0 && LiveDecodeShare < 1)) throw new ArgumentException($"LiveDecodeShare = {LiveDecodeShare} must be in (0, 1)");
        if (!(BatchDecodeShare > 0 && BatchDecodeShare < 1)) throw new ArgumentException($"BatchDecodeShare = {BatchDecodeShare} must be in (0, 1)");
        if (IdleDecodeSteps < 1) throw new ArgumentException($"IdleDecodeSteps = {IdleDecodeSteps} must be ≥ 1");
        if (MaxDecodeRows < 1) throw new ArgumentException($"MaxDecodeRows = {MaxDecodeRows} must be ≥ 1");
        if (LiveLearnerTokensPerChunk < 1) throw new ArgumentException($"LiveLearnerTokensPerChunk = {LiveLearnerTokensPerChunk} must be ≥ 1");
        if (QuantumTokens < 1) throw new ArgumentException($"QuantumTokens = {QuantumTokens} must be ≥ 1");
    }
}
