namespace Whetstone.Cookbook.Recipes;

/// <summary>Settings of a pretraining run: full-parameter training on packed corpus text with a
/// warmup + cosine learning-rate schedule.</summary>
public sealed record PretrainOptions
{
    public required string BaseModel { get; init; }
    public required string OutputDirectory { get; init; }
    public int Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 16;
    public int SequenceLength { get; init; } = 256;
    public double PeakLearningRate { get; init; } = 3e-3;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>The schedule ends at this share of the peak.</summary>
    public double FinalLearningRateRatio { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.1;
    public int CheckpointEvery { get; init; } = 500;
    public int LogEvery { get; init; } = 50;
    public long Seed { get; init; }
    /// <summary>Stop (with a checkpoint) after this step, to go on later with the same command:
    /// the schedule stays that of <see cref="Steps"/>. Null runs to the end.</summary>
    public int? StopAfter { get; init; }

    /// <summary>Linear warmup, then cosine decay to FinalLearningRateRatio · peak.</summary>
    public double LearningRate(int step)
    {
        if (step <= WarmupSteps) return PeakLearningRate * step / Math.Max(1, WarmupSteps);
        double progress = (double)(step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps);
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
        return PeakLearningRate * (FinalLearningRateRatio + (1 - FinalLearningRateRatio) * cosine);
    }
}

public sealed record PretrainResult(string SamplerPath, int Steps, double FinalLoss, long TokensSeen);
