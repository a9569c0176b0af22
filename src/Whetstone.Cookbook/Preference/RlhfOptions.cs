namespace Whetstone.Cookbook.Preference;

/// <summary>Settings of the RLHF pipeline: a reward model on corpus preferences, then RL of the
/// SFT policy against it, then the oracle's win-rate of the result against the SFT policy.</summary>
public sealed record RlhfOptions
{
    /// <summary>The SFT policy, a served base model.</summary>
    public required string BaseModel { get; init; }
    /// <summary>reward-model/ and rl/ (each with metrics.jsonl) and summary.json go here.</summary>
    public required string OutputDirectory { get; init; }
    public IReadOnlyCollection<string> Tasks { get; init; } = ["arithmetic", "instruction"];
    public string RewardLoss { get; init; } = "bradley_terry";
    public int RewardSteps { get; init; } = 150;
    public double RewardLearningRate { get; init; } = 1e-3;
    public int RewardTrainPairs { get; init; } = 1200;
    public int RewardHeldOutPairs { get; init; } = 100;
    public int RlSteps { get; init; } = 20;
    public double RlLearningRate { get; init; } = 1e-4;
    public int Rank { get; init; } = 16;
    public int GroupSize { get; init; } = 8;
    public int GroupsPerBatch { get; init; } = 4;
    public int MaxTokens { get; init; } = 96;
    /// <summary>β of the KL penalty to the SFT policy, folded into the advantages.</summary>
    public double KlPenalty { get; init; } = 0.05;
    /// <summary>Held-out problems of the RL loop's own greedy eval (before and after).</summary>
    public int RlEvalCount { get; init; } = 50;
    /// <summary>Held-out questions for the win-rate.</summary>
    public int WinRateQuestions { get; init; } = 100;
    public long Seed { get; init; }
}

/// <param name="MeanRewardSft">Mean reward-model score of the SFT policy's greedy held-out answers.</param>
public sealed record RlhfResult(RewardModelResult RewardModel, string PolicySamplerPath, OracleWinRate.Report WinRate,
    double MeanRewardSft, double MeanRewardRlhf);
