namespace Whetstone.Service.Persistence;

/// <summary>An experiential loop on a tenant's deployment. SpecJson holds its settings (the
/// protocol's trigger, RL, gate and canary records). Status: active | paused | deleted. State: idle |
/// training | gating | canary. FeedbackCursor is the id of the last feedback event an iteration
/// finished with; FeedbackConsumed counts them.</summary>
public sealed record LoopRecord(string Id, string Tenant, string Deployment, string SpecJson, DateTimeOffset CreatedAt)
{
    public string Status { get; init; } = "active";
    public string State { get; init; } = "idle";
    public int Iteration { get; init; }
    public string? FeedbackCursor { get; init; }
    public long FeedbackConsumed { get; init; }
    public DateTimeOffset? LastIterationAt { get; init; }
}

/// <summary>One iteration of a loop and its lineage. Stage: training | gating | canary | done.
/// FeedbackIdsJson: the window's feedback ids (WindowEnd the last); DeployedVersion: the version it
/// started from; DeploymentVersion: the version its candidate became (canary or promoted).</summary>
public sealed record LoopIterationRecord(string LoopId, int Iteration, DateTimeOffset StartedAt)
{
    public string Stage { get; init; } = "training";
    public string? WindowEnd { get; init; }
    public string FeedbackIdsJson { get; init; } = "[]";
    public int DeployedVersion { get; init; }
    public string? RmVersion { get; init; }
    public string? CandidateRun { get; init; }
    public string? PolicyCheckpoint { get; init; }
    public int? DeploymentVersion { get; init; }
    public string? Outcome { get; init; }
    public string? Reason { get; init; }
    public string? MetricsJson { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A feedback event on a deployment's completion, with the completion's version and canary arm.</summary>
public sealed record DeploymentFeedback(FeedbackRecord Feedback, string? Deployment, string? Arm)
{
    /// <summary>The `user` of the request whose answer the feedback is about (the log's end_user).</summary>
    public string? User { get; init; }
}
