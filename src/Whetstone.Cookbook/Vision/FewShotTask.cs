namespace Whetstone.Cookbook.Vision;

/// <summary>One labelled picture of the few-shot task, drawn at any size from its seed (the
/// VLM reads it at 84 pixels, ResNet18 at 224: the same scene).</summary>
public sealed record LabelledScene(int Seed, string Label)
{
    public byte[] Png(int size) => ShapeScenes.Shapes(Seed, size, [Label]).Png;
}

/// <summary>The few-shot classification task: the shapes the zoo VLM never saw drawn
/// (<see cref="ShapeScenes.HeldOutKinds"/>; their names it knows from text), in any colour,
/// count and position. Training shots for a seed are the first N of that seed's pool per class;
/// the test set is fixed and disjoint from every pool.</summary>
public static class FewShotTask
{
    public static IReadOnlyList<string> Classes => ShapeScenes.HeldOutKinds;
    public const string Question = SceneQuestions.Shape;
    const int PoolSize = 64, TestSeedBase = 2_000_000_000;

    public static IReadOnlyList<LabelledScene> Shots(int perClass, int seed)
    {
        if (perClass > PoolSize) throw new ArgumentOutOfRangeException(nameof(perClass), perClass, $"at most {PoolSize} shots per class");
        return Classes.SelectMany((label, c) => Enumerable.Range(0, perClass)
            .Select(i => new LabelledScene(1_500_000_000 + (seed * Classes.Count + c) * PoolSize + i, label))).ToArray();
    }

    public static IReadOnlyList<LabelledScene> Test(int perClass) =>
        Classes.SelectMany((label, c) => Enumerable.Range(0, perClass).Select(i => new LabelledScene(TestSeedBase + c * 1000 + i, label))).ToArray();
}
