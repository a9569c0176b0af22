using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Vision;

/// <summary>Accuracy of one question kind against answering by chance.</summary>
public sealed record KindAccuracy(string Kind, int Correct, int Total, double Chance)
{
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;
}

/// <summary>Scores a VLM through the SDK on held-out scenes: one question per prompt, greedy
/// answer, exact match with the right answer.</summary>
public static class SceneEval
{
    /// <summary>Chance of a uniform guess among the answers a kind can have: 4 colours, 3 shapes,
    /// 3 counts; "where" among the 9 cells for the one-shape scenes it is asked on; 4 textures;
    /// 26 letters; 10 digits.</summary>
    public static double Chance(string kind) => kind switch
    {
        "colour" => 1.0 / ShapeScenes.Colours.Length,
        "shape" => 1.0 / ShapeScenes.Kinds.Length,
        "count" => 1.0 / 3,
        "where" => 1.0 / 9,
        "texture" => 1.0 / PatternScenes.Textures.Length,
        "letter" => 1.0 / StrokeLetters.Alphabet.Length,
        "digit" => 1.0 / 10,
        _ => throw new ArgumentException($"no chance level for '{kind}'", nameof(kind)),
    };

    public static async Task<IReadOnlyList<KindAccuracy>> RunAsync(SamplingClient sampler, ImageChat chat, int scenes, int imageSize,
        CancellationToken cancellationToken = default, int pixelsPerToken = 28, IReadOnlyList<string>? kinds = null)
    {
        var tally = new Dictionary<string, (int Correct, int Total)>();
        kinds ??= SceneQuestions.Kinds;
        var pending = new List<(string Kind, string Answer, Task<ApiFuture<SampleOutput>> Future)>();
        Task<ApiFuture<SampleOutput>> Ask(byte[] png, string question)
        {
            var prompt = chat.Prompt(png, ImageChat.TokensFor(imageSize, pixelsPerToken), question);
            var parameters = new SamplingParams { MaxTokens = 16, Temperature = 0, Seed = 0, StopTokenIds = [.. chat.StopTokenIds] };
            return sampler.SampleAsync(prompt, 1, parameters, cancellationToken: cancellationToken);
        }
        for (int i = 0; i < scenes; i++)
        {
            int seed = VlmPretrainOptions.EvalSeedBase + i;
            var scene = ShapeScenes.Shapes(seed, imageSize);
            foreach (var q in SceneQuestions.About(scene, new Random(seed)))
            {
                if (q.Kind == "describe" || (q.Kind == "where" && scene.Shapes.Count > 1)) continue;
                pending.Add((q.Kind, q.Answer, Ask(scene.Png, q.Question)));
            }
            // One texture, letter and digit picture per scene seed, so their counts match the others'.
            foreach (var kind in kinds.Where(SceneQuestions.IsPatternKind))
            {
                var (picture, q) = SceneQuestions.Pattern(kind, seed, imageSize);
                pending.Add((q.Kind, q.Answer, Ask(picture.Png, q.Question)));
            }
        }
        foreach (var (kind, answer, future) in pending)
        {
            var output = await (await future).ResultAsync(cancellationToken);
            bool right = chat.Answer(output.Sequences[0].Tokens) == answer;
            var (c, t) = tally.GetValueOrDefault(kind);
            tally[kind] = (c + (right ? 1 : 0), t + 1);
        }
        return tally.OrderBy(k => k.Key).Select(k => new KindAccuracy(k.Key, k.Value.Correct, k.Value.Total, Chance(k.Key))).ToArray();
    }
}
