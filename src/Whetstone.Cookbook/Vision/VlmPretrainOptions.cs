namespace Whetstone.Cookbook.Vision;

/// <summary>Settings of the zoo VLM's pretraining: full-parameter steps on question/answer chats
/// about generated shape scenes, with a share of text-only facts about shape words.</summary>
public sealed record VlmPretrainOptions
{
    public required string BaseModel { get; init; }
    public required string OutputDirectory { get; init; }
    public int Steps { get; init; } = 1000;
    /// <summary>Chats per step (each one picture and one question, or one text fact).</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Side of the square pictures in pixels: 84 is 3 × 3 LM tokens, one per grid cell.</summary>
    public int ImageSize { get; init; } = 84;
    /// <summary>Pixels per side of one LM token: 28 for the ViT (14-pixel patches merged 2 × 2),
    /// 224 for the frozen ResNet18 tower (one token per 224-pixel tile).</summary>
    public int PixelsPerToken { get; init; } = 28;
    /// <summary>The question kinds trained, in turn (default all of <see cref="SceneQuestions.Kinds"/>).</summary>
    public IReadOnlyList<string> QuestionKinds { get; init; } = SceneQuestions.Kinds;
    /// <summary>One chat in this many is a text-only fact.</summary>
    public int FactEvery { get; init; } = 8;
    public double PeakLearningRate { get; init; } = 3e-3;
    /// <summary>The tower's and merger's rate as a fraction of the LM's: at 1, the white
    /// background's response outgrows the shapes' and every run stayed at chance
    /// (VisionTowerLearningRateTests).</summary>
    public double VisionLearningRateScale { get; init; } = 0.1;
    public int WarmupSteps { get; init; } = 50;
    public double WeightDecay { get; init; } = 0.1;
    public int LogEvery { get; init; } = 25;
    public int CheckpointEvery { get; init; } = 200;
    public long Seed { get; init; }
    /// <summary>Held-out scenes scored per question kind at the end.</summary>
    public int EvalScenes { get; init; } = 100;

    internal Recipes.PretrainOptions Schedule => new()
    {
        BaseModel = BaseModel, OutputDirectory = OutputDirectory, Steps = Steps,
        PeakLearningRate = PeakLearningRate, WarmupSteps = WarmupSteps,
    };

    /// <summary>Training scenes are seeded from 0 up; evaluation scenes from here up, never met in training.</summary>
    public const int EvalSeedBase = 1_000_000_000;
}
