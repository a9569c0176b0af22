namespace Whetstone.Cookbook.Vision;

/// <summary>A question about a picture and its one right answer; <see cref="Kind"/> groups
/// answers for accuracy against chance ("colour", "shape", "count", "where", "describe" about a
/// shape scene; "texture", "letter" and "digit" about a PatternScenes picture).</summary>
public sealed record SceneQuestion(string Kind, string Question, string Answer);

/// <summary>What the zoo VLM learns to answer about a shape scene, and the text-only facts that
/// teach its LM the shape words (including the held-out ones, which it never sees drawn).</summary>
public static class SceneQuestions
{
    public const string Colour = "What colour are the shapes?", Shape = "What shape are they?", Count = "How many shapes are there?",
        Where = "Where are they?", Describe = "Describe the picture.", Texture = "What pattern is it?", Letter = "What letter is it?",
        Digit = "What digit is it?";

    public static readonly IReadOnlyList<string> Kinds = ["colour", "shape", "count", "where", "describe", "texture", "letter", "digit"];

    /// <summary>The kinds asked about a PatternScenes picture rather than a shape scene.</summary>
    public static bool IsPatternKind(string kind) => kind is "texture" or "letter" or "digit";

    /// <summary>The one question of a pattern kind, with its picture: a texture square for
    /// "texture" (answer "stripes"), a letter for "letter" (answer "K"), a digit for "digit"
    /// (answer "7", the numeral its caption "the digit 7" uses).</summary>
    public static (PatternImage Picture, SceneQuestion Question) Pattern(string kind, int seed, int size) => kind switch
    {
        "texture" when PatternScenes.Texture(seed, size) is var t => (t, new SceneQuestion(kind, Texture, t.Texture)),
        "letter" when PatternScenes.Letter(seed, size) is var l => (l, new SceneQuestion(kind, Letter, l.Letter!.Value.ToString())),
        "digit" when PatternScenes.Digit(seed, size) is var d => (d, new SceneQuestion(kind, Digit, d.Digit!.Value.ToString())),
        _ => throw new ArgumentException($"'{kind}' is not a pattern question kind", nameof(kind)),
    };

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
            foreach (var kind in SceneQuestions.Kinds.Where(IsPatternKind))
            {
                var (_, question) = Pattern(kind, seed, size);
                yield return question.Question; yield return question.Answer;
            }
        }
    }
}
