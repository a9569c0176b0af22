namespace Whetstone.Cookbook.Preference;

/// <summary>Settings of a reward model trained on corpus preference data.</summary>
public sealed record RewardModelOptions
{
    public required string BaseModel { get; init; }
    /// <summary>metrics.jsonl and summary.json go here.</summary>
    public required string OutputDirectory { get; init; }
    /// <summary>"bradley_terry" (pairs) or "binary_logistic" (thumbs up/down).</summary>
    public string Loss { get; init; } = "bradley_terry";
    public int Rank { get; init; } = 16;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Pairs per step (binary_logistic: twice as many rated responses, the same tokens).</summary>
    public int BatchPairs { get; init; } = 8;
    public int Steps { get; init; } = 60;
    public int TrainPairs { get; init; } = 400;
    public int HeldOutPairs { get; init; } = 100;
    public int EvaluateEvery { get; init; } = 20;
    public IReadOnlyCollection<string>? Tasks { get; init; }
    public long Seed { get; init; }
}

/// <param name="StatePath">The reward model's training state (whet://…/weights/final).</param>
public sealed record RewardModelResult(string RunId, string StatePath, double HeldOutAccuracyBefore, double HeldOutAccuracyAfter);
