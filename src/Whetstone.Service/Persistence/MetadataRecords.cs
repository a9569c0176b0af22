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

/// <summary>One answer served through the OpenAI API, kept so feedback can be attached to it and
/// so it can become training data. Model is what the caller named; BaseModel, CheckpointPath
/// and Deployment (name@vN) say what answered. The JSON columns hold: RequestJson the prompt or
/// messages as sent; PromptTokensJson the rendered prompt's ids; ChoicesJson per choice its
/// tokens, logprobs, text, finish reason (and the parsed message for chat); ParamsJson the
/// sampling settings.</summary>
public sealed record ServedCompletionRecord(string Id, string Tenant, string Endpoint, string Model, string BaseModel, DateTimeOffset CreatedAt)
{
    public string? CheckpointPath { get; init; }
    public string? Deployment { get; init; }
    public string? User { get; init; }
    public required string RequestJson { get; init; }
    public required string PromptTokensJson { get; init; }
    public required string ChoicesJson { get; init; }
    public required string ParamsJson { get; init; }
    public double LatencySeconds { get; init; }
    public double? TimeToFirstTokenSeconds { get; init; }
    /// <summary>Under a canary split of name@latest: "stable" or "candidate"; null otherwise.</summary>
    public string? Arm { get; init; }
}

/// <summary>Feedback on a served completion. Kind: thumbs_up, thumbs_down, rating (Rating set),
/// correction (Correction: a better answer), preference (CompletionId preferred over
/// RejectedCompletionId).</summary>
public sealed record FeedbackRecord(string Id, string Tenant, string CompletionId, string Kind, DateTimeOffset CreatedAt)
{
    public int ChoiceIndex { get; init; }
    public double? Rating { get; init; }
    public string? Correction { get; init; }
    public string? RejectedCompletionId { get; init; }
    public string? Comment { get; init; }
}

/// <summary>A deployment alias of a tenant: name@latest answers with CurrentVersion's checkpoint,
/// except the share CandidatePercent (0–100) of its requests that a canary split sends to CandidateVersion.</summary>
public sealed record DeploymentRecord(string Tenant, string Name, DateTimeOffset CreatedAt, int CurrentVersion)
{
    public int? CandidateVersion { get; init; }
    public double CandidatePercent { get; init; }
}

/// <summary>Version N of a deployment (name@vN): the sampler checkpoint promoted as that version.</summary>
public sealed record DeploymentVersionRecord(string Tenant, string Name, int Version, string CheckpointPath, DateTimeOffset CreatedAt);

/// <summary>A Memory Diffusion memory of a tenant: its spans (JSON, at most BudgetTokens tokens in
/// all) are replaced by each turn's update; its operation log is kept apart (<see cref="MemoryOperationRecord"/>).</summary>
public sealed record MemoryRecord(string Id, string Tenant, string BaseModel, int BudgetTokens, int Seed, int Turn,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string StateJson);

/// <summary>One entry of a memory's operation log; Sequence counts from 1 per memory.</summary>
public sealed record MemoryOperationRecord(string MemoryId, long Sequence, int Turn, string Operation, string? SpanId, string Detail, DateTimeOffset At);
