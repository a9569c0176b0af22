namespace Whetstone.Cookbook.Preference;

/// <summary>Settings of a DPO run over corpus preference pairs.</summary>
public sealed record DpoOptions
{
    public required string BaseModel { get; init; }
    /// <summary>A training state (whet://…/weights/…) to start the policy from, e.g. an SFT run's;
    /// it is also the reference policy. Null: the base model.</summary>
    public string? StartFrom { get; init; }
    /// <summary>metrics.jsonl and summary.json go here.</summary>
    public required string OutputDirectory { get; init; }
    public double Beta { get; init; } = DpoLoss.DefaultBeta;
    public int Rank { get; init; } = 16;
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>Pairs per step.</summary>
    public int BatchPairs { get; init; } = 8;
    public int Steps { get; init; } = 50;
    public int TrainPairs { get; init; } = 400;
    public int HeldOutPairs { get; init; } = 100;
    public int EvaluateEvery { get; init; } = 10;
    /// <summary>Corpus tasks to draw pairs from (arithmetic, instruction).</summary>
    public IReadOnlyCollection<string>? Tasks { get; init; }
    public long Seed { get; init; }
}

public sealed record DpoResult(string SamplerPath, DpoMetrics HeldOutBefore, DpoMetrics HeldOutAfter,
    double LikelihoodAccuracyBefore, double LikelihoodAccuracyAfter);
