using Whetstone.Chat;

namespace Whetstone.Cookbook.Recipes;

/// <summary>Settings of a supervised fine-tuning run.</summary>
public sealed record SftOptions
{
    public required string BaseModel { get; init; }
    public required string TrainData { get; init; }
    public string? HeldOutData { get; init; }
    /// <summary>metrics.jsonl, checkpoints.json, loss.png and the resume record go here.</summary>
    public required string OutputDirectory { get; init; }
    public int Rank { get; init; } = 32;
    public bool FullFineTuning { get; init; }
    public double LearningRate { get; init; } = 1e-4;
    public int BatchSize { get; init; } = 8;
    public int Steps { get; init; } = 100;
    public int CheckpointEvery { get; init; } = 50;
    public int EvaluateEvery { get; init; } = 25;
    public TrainOnWhat TrainOn { get; init; } = TrainOnWhat.AllAssistantMessages;
    public bool SkipBadLines { get; init; } = true;
    public long Seed { get; init; }
}

public sealed record SftResult(string SamplerPath, int Steps, double FirstLoss, double LastLoss, double? HeldOutNll);
