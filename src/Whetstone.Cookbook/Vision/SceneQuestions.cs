namespace Whetstone.Cookbook.Vision;

/// <summary>A question about a picture and its one right answer; <see cref="Kind"/> groups
/// answers for accuracy against chance ("colour", "shape", "count", "where", "describe").</summary>
public sealed record SceneQuestion(string Kind, string Question, string Answer);

/// <summary>What the zoo VLM learns to answer about a shape scene, and the text-only facts that
/// teach its LM the shape words (including the held-out ones, which it never sees drawn).</summary>
public static class SceneQuestions
{
    public const string Colour = "What colour are the shapes?", Shape = "What shape are they?", Count = "How many shapes are there?",
        Where = "Where are they?", Describe = "Describe the picture.";

    public static readonly IReadOnlyList<string> Kinds = ["colour", "shape", "count", "where", "describe"];

    /// <summary>Every question about <paramref name="scene"/>, in a seed-chosen order.</summary>
    public static IReadOnlyList<SceneQuestion> About(CaptionedImage scene, Random random)
    {
        var first = scene.Shapes[0];
        SceneQuestion[] all =
        [
            new("colour", Colour, first.Colour),
            new("shape", Shape, first.Kind),
            new("count", Count, ShapeScenes.CountWord(scene.Shapes.Count)),
            new("where", Where, string.Join(", ", scene.Shapes.Select(s => s.Position))),
            new("describe", Describe, scene.Caption),
        ];
        return all.OrderBy(_ => random.Next()).ToArray();
    }

    /// <summary>Facts about every shape word, as (question, answer) chats without a picture.</summary>
    public static readonly (string Question, string Answer)[] Facts =
    [
        ("What shape is round?", "circle"),
        ("What shape has three sides?", "triangle"),
        ("What shape has four equal sides and square corners?", "square"),
        ("What shape has five points?", "star"),
        ("What shape is two crossed bars?", "cross"),
        ("What shape has six sides?", "hexagon"),
        ("What shape is a square standing on its corner?", "diamond"),
        ("Name a colour.", "red"), ("Name a colour.", "green"), ("Name a colour.", "blue"), ("Name a colour.", "yellow"),
        ("Name a shape.", "circle"), ("Name a shape.", "square"), ("Name a shape.", "triangle"),
        ("Name a shape.", "star"), ("Name a shape.", "cross"), ("Name a shape.", "hexagon"), ("Name a shape.", "diamond"),
    ];

    /// <summary>Text the tokenizer learns its merges on: every word the questions, answers and
    /// facts use.</summary>
    public static IEnumerable<string> TokenizerTexts(int scenes, int size)
    {
        foreach (var (q, a) in Facts) { yield return q; yield return a; }
        for (int seed = 0; seed < scenes; seed++)
        {
            var scene = ShapeScenes.Shapes(seed, size, [.. ShapeScenes.Kinds, .. ShapeScenes.HeldOutKinds]);
            foreach (var q in About(scene, new Random(seed))) { yield return q.Question; yield return q.Answer; }
        }
    }
}
