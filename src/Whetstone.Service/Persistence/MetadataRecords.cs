namespace Whetstone.Service.Persistence;

/// <summary>An API key: only the SHA-256 of the secret is stored.</summary>
public sealed record ApiKeyRecord(string Id, string Tenant, string Name, string KeyHash, bool IsAdmin, DateTimeOffset CreatedAt)
{
    public DateTimeOffset? RevokedAt { get; init; }
}

/// <summary>A training run. LoraConfigJson holds rank/alpha/targets/seed as the engine writes it
/// (null for full fine-tuning); UserMetadataJson is the caller's string map.</summary>
public sealed record RunRecord(string Id, string Tenant, string BaseModel, DateTimeOffset CreatedAt)
{
    public bool FullFineTuning { get; init; }
    public string? LoraConfigJson { get; init; }
    public string? UserMetadataJson { get; init; }
    public long Step { get; init; }
    public DateTimeOffset? LastRequestAt { get; init; }
    /// <summary>whet:// path of the newest training state, the one a restarted server resumes from.</summary>
    public string? LastCheckpoint { get; init; }
    public string? LastSamplerCheckpoint { get; init; }
}

/// <summary>A checkpoint directory under the data directory, addressed by its whet:// path.
/// Kind is "weights" or "sampler_weights".</summary>
public sealed record CheckpointRecord(string Path, string RunId, string Tenant, string Kind, string Name, string Directory, DateTimeOffset CreatedAt)
{
    public bool Published { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public long SizeBytes { get; init; }
}

/// <summary>One submitted call. Status: "pending", "done" or "failed".</summary>
public sealed record RequestRecord(string Id, string Tenant, string? RunId, string Kind, string Status, DateTimeOffset SubmittedAt)
{
    public DateTimeOffset? CompletedAt { get; init; }
    public string? Error { get; init; }
}

/// <summary>Accounting totals (or a delta to add to them).</summary>
public sealed record UsageTotals
{
    public long PrefillTokens { get; init; }
    public long SampledTokens { get; init; }
    public long TrainedTokens { get; init; }
    public double ComputeSeconds { get; init; }
}
