namespace Whetstone.Cookbook.Distillation;

/// <summary>Settings of on-policy distillation: a student base model trained (LoRA) toward a
/// teacher base model served by the same service with the same tokenizer.</summary>
public sealed record DistillationOptions
{
    public required string StudentModel { get; init; }
    public required string TeacherModel { get; init; }
    /// <summary>metrics.jsonl and summary.json go here.</summary>
    public required string OutputDirectory { get; init; }
    public int Rank { get; init; } = 16;
    public double LearningRate { get; init; } = 1e-3;
    public int Steps { get; init; } = 30;
    public int PromptsPerStep { get; init; } = 8;
    public int SamplesPerPrompt { get; init; } = 2;
    public int MaxTokens { get; init; } = 96;
    public double Temperature { get; init; } = 1.0;
    /// <summary>Held-out prompts on which the student–teacher KL is measured.</summary>
    public int HeldOutPrompts { get; init; } = 32;
    public int EvaluateEvery { get; init; } = 10;
    /// <summary>Corpus tasks the prompts come from.</summary>
    public IReadOnlyCollection<string>? Tasks { get; init; }
    public long Seed { get; init; }
}

/// <param name="HeldOutKlBefore">Mean per-token reverse KL estimate, student samples, before training.</param>
public sealed record DistillationResult(string SamplerPath, double HeldOutKlBefore, double HeldOutKlAfter);
