namespace Whetstone.Protocol;

public sealed record TrainingRunList(IReadOnlyList<TrainingRunInfo> Runs)
{
    /// <summary>The page's place in the whole list (set by the server on every list).</summary>
    public Cursor? Cursor { get; init; }
}

/// <summary>A saved checkpoint: kind "weights" (training state) or "sampler_weights" (adapter).</summary>
public sealed record CheckpointInfo(string Path, string RunId, string Kind, string Name)
{
    public DateTimeOffset CreatedAt { get; init; }
    public bool Published { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public long SizeBytes { get; init; }
}

public sealed record CheckpointList(IReadOnlyList<CheckpointInfo> Checkpoints)
{
    /// <summary>The page's place in the whole list (set by the server on every list).</summary>
    public Cursor? Cursor { get; init; }
}

public sealed record SetCheckpointTtlRequest(double? TtlSeconds);

/// <summary>Token and compute accounting for a run or an API key.</summary>
public sealed record UsageInfo
{
    public long PrefillTokens { get; init; }
    public long SampledTokens { get; init; }
    public long TrainedTokens { get; init; }
    public double ComputeSeconds { get; init; }
}

/// <summary>What the schedulers did lately, per base model.</summary>
public sealed record SchedulerMetrics(IReadOnlyList<BaseModelMetrics> BaseModels);

/// <summary>Utilisation: the share of the wall time since the oldest recent cycle began that the
/// scheduler spent running cycles.</summary>
public sealed record BaseModelMetrics(string BaseModel, int QueueDepth, double Utilisation, IReadOnlyList<CycleInfo> RecentCycles);

/// <summary>One clock cycle: its duration, the runs and calls it served, and the queue after it.</summary>
public sealed record CycleInfo(DateTimeOffset StartedAt, double Seconds, int Runs, int LearnerCalls, long TrainedTokens,
    int OptimSteps, int SampleCalls, long SampledTokens, int QueueDepthAfter);

public sealed record HealthResponse(string Status, IReadOnlyList<string> BaseModels);
