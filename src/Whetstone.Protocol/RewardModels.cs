namespace Whetstone.Protocol;

/// <summary>POST /api/v1/deployments/{name}/reward_model: the deployment's streaming reward model
/// (a LoRA adapter with a scalar value head on the deployment's base model), trained inside the
/// service on the deployment's feedback in micro-batches.</summary>
public sealed record CreateRewardModelRequest
{
    /// <summary>Null: the base model of the deployment's current version (required while it has none).</summary>
    public string? BaseModel { get; init; }
    public RewardModelSettings Settings { get; init; } = new();
}

/// <summary>How a reward model learns. An update takes at most <see cref="BatchEvents"/> new
/// feedback events; the background updater starts one when that many wait, or when any wait and
/// <see cref="IntervalSeconds"/> have passed since the last version.</summary>
public sealed record RewardModelSettings
{
    public int Rank { get; init; } = 8;
    public long Seed { get; init; }
    public int BatchEvents { get; init; } = 16;
    public double IntervalSeconds { get; init; } = 60;
    /// <summary>False: only POST …/reward_model/update (or the service's UpdateNowAsync) trains it.</summary>
    public bool AutoUpdate { get; init; } = true;
    /// <summary>Share of each micro-batch drawn from feedback earlier versions trained on (replay), in [0, 0.9].</summary>
    public double ReplayFraction { get; init; } = 0.25;
    /// <summary>Most of a micro-batch's total loss weight any one end user (the log's user) may carry, in (0, 1]; 1 = no cap.</summary>
    public double UserCap { get; init; } = 0.25;
    public double LearningRate { get; init; } = 1e-2;
    /// <summary>Optimizer steps per micro-batch.</summary>
    public int StepsPerUpdate { get; init; } = 2;
}

/// <summary>GET …/reward_model: where the reward model stands.</summary>
public sealed record RewardModelInfo(string Deployment, string RunId, string BaseModel, int Version, long EventsSeen, long EventsPending,
    RewardModelSettings Settings, IReadOnlyList<PrequentialPoint> Prequential)
{
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Prequential accuracy of one update: its new events as predicted by the previous
/// version, before it trained on them; Cumulative* over every update so far.</summary>
public sealed record PrequentialPoint(int Version, DateTimeOffset At, int Predicted, int Correct, double Accuracy, int CumulativePredicted,
    double CumulativeAccuracy);

/// <summary>A version of the reward model and its lineage: the feedback it trained on first and
/// the feedback replayed from earlier versions.</summary>
public sealed record RewardModelVersionInfo(int Version, string StatePath, DateTimeOffset CreatedAt, IReadOnlyList<string> FeedbackIds,
    IReadOnlyList<string> ReplayIds, IReadOnlyDictionary<string, double> Metrics);

public sealed record RewardModelVersionList(IReadOnlyList<RewardModelVersionInfo> Versions);

/// <summary>POST …/reward_model/score: a score for each (prompt tokens, answer tokens).</summary>
public sealed record ScoreAnswersRequest
{
    public IReadOnlyList<AnswerToScore>? Pairs { get; init; }
}

public sealed record AnswerToScore(IReadOnlyList<int>? PromptTokens, IReadOnlyList<int>? AnswerTokens);

public sealed record ScoreAnswersResponse(int Version, IReadOnlyList<double> Scores);

/// <summary>POST …/reward_model/update: Updated is false (and Version null) when no new feedback waited.</summary>
public sealed record RewardModelUpdateInfo(bool Updated)
{
    public RewardModelVersionInfo? Version { get; init; }
    /// <summary>The update's new events as the previous version predicted them.</summary>
    public PrequentialPoint? Prequential { get; init; }
}

/// <summary>GET …/reward_model/corrections: each correction of the deployment's answers as an SFT
/// example (the prompt's tokens, the correction's text and tokens).</summary>
public sealed record CorrectionExample(string FeedbackId, string CompletionId, IReadOnlyList<int> PromptTokens, string Correction,
    IReadOnlyList<int> CorrectionTokens)
{
    /// <summary>The served answer the user corrected (null where not known).</summary>
    public string? Original { get; init; }
}

public sealed record CorrectionList(IReadOnlyList<CorrectionExample> Corrections);
