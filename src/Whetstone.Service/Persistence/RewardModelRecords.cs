namespace Whetstone.Service.Persistence;

/// <summary>The streaming reward model of a tenant's deployment: a value-head LoRA run (RunId) on
/// BaseModel, its settings (ConfigJson, a serialized RewardModelConfig), the version it is at, and
/// the cursor of the tenant's feedback stream: every feedback id up to and including Cursor (in
/// the stream's (created_at, id) order) has been consumed. Version, Cursor and EventsSeen change
/// only together with a new version record, in one transaction.</summary>
public sealed record RewardModelRecord(string Tenant, string Deployment, string RunId, string BaseModel, string ConfigJson, DateTimeOffset CreatedAt)
{
    public int Version { get; init; }
    public string? Cursor { get; init; }
    public long EventsSeen { get; init; }
}

/// <summary>Version N of a reward model: its training state (StatePath, whet://…/weights/…), the
/// feedback ids it was trained on first (FeedbackIdsJson) and those replayed from earlier
/// versions (ReplayIdsJson), both JSON string arrays, and the update's metrics (MetricsJson).</summary>
public sealed record RewardModelVersionRecord(string Tenant, string Deployment, int Version, string StatePath, DateTimeOffset CreatedAt)
{
    public string FeedbackIdsJson { get; init; } = "[]";
    public string ReplayIdsJson { get; init; } = "[]";
    public string MetricsJson { get; init; } = "{}";
}

/// <summary>A prequential prediction: feedback FeedbackId scored by version PredictedBy before any
/// version trained on it. Margin is the value the prediction's sign is read from (thumbs: the
/// score; rating: score minus the rating scale's centre in logits; preference and correction: the
/// chosen answer's score minus the rejected one's); Correct is whether its sign agreed with the
/// feedback. Ratings at the scale's centre carry no direction and are not recorded.</summary>
public sealed record RewardModelPredictionRecord(string Tenant, string Deployment, string FeedbackId, int PredictedBy, string Kind,
    double Margin, bool Correct, DateTimeOffset CreatedAt);
