using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Vision;

/// <summary>Chats whose first user turn shows one picture, as the model reads them through the
/// SDK: rendered by the model's renderer with Qwen2.5-VL's placeholder
/// (&lt;|vision_start|&gt;&lt;|image_pad|&gt;&lt;|vision_end|&gt;, as /v1/chat/completions renders an
/// image_url part), the pad widened to the image's token count and the PNG placed there as an
/// ImageChunk with expected_tokens (so a size mismatch is refused, not silently misaligned).</summary>
public sealed class ImageChat(HuggingFaceTokenizer tokenizer)
{
    public const string Placeholder = "<|vision_start|><|image_pad|><|vision_end|>";

    readonly IRenderer _renderer = RendererFactory.For(tokenizer);
    readonly int _pad = tokenizer.TokenToId("<|image_pad|>") ?? throw new ArgumentException("the tokenizer has no <|image_pad|> token");

    public IReadOnlyList<int> StopTokenIds => _renderer.StopTokenIds;

    /// <summary>LM positions a square picture of <paramref name="side"/> pixels takes in
    /// Qwen2.5-VL: one per 28 × 28 pixels (14-pixel patches merged 2 × 2).</summary>
    public static int TokensFor(int side, int pixelsPerToken = 28) =>
        side % pixelsPerToken == 0 ? side / pixelsPerToken * (side / pixelsPerToken)
            : throw new ArgumentException($"side {side} is not a multiple of {pixelsPerToken}", nameof(side));

    /// <summary>A cross-entropy datum: the picture, then question/answer turns; every answer
    /// (and its end of turn) is trained, everything else is read only.</summary>
    public Datum Training(byte[] png, int imageTokens, IReadOnlyList<(string Question, string Answer)> turns)
    {
        var messages = new List<ChatMessage>();
        for (int i = 0; i < turns.Count; i++)
        {
            messages.Add(ChatMessage.User((i == 0 ? Placeholder : "") + turns[i].Question));
            messages.Add(ChatMessage.Assistant(turns[i].Answer));
        }
        var example = _renderer.BuildSupervisedExample(messages, TrainOnWhat.AllAssistantMessages);
        var (tokens, weights) = Widen(example.Tokens, example.Weights, imageTokens);
        var targets = tokens.Skip(1).ToArray();
        return new Datum(Input(tokens[..^1], png, imageTokens), new Dictionary<string, TensorData>
        {
            ["target_tokens"] = TensorData.Int64(targets),
            ["weights"] = TensorData.Float32(weights.Skip(1)),
        });
    }

    /// <summary>A text-only cross-entropy datum (a fact about a word), answer trained.</summary>
    public Datum TextTraining(string question, string answer)
    {
        var example = _renderer.BuildSupervisedExample([ChatMessage.User(question), ChatMessage.Assistant(answer)], TrainOnWhat.AllAssistantMessages);
        return Client.Datums.ForCrossEntropy(example.Tokens, example.Weights);
    }

    /// <summary>The prompt for the assistant's answer to one question about the picture.</summary>
    public ModelInput Prompt(byte[] png, int imageTokens, string question)
    {
        var tokens = _renderer.BuildGenerationPrompt([ChatMessage.User(Placeholder + question)]);
        var (widened, _) = Widen(tokens, tokens.Select(_ => 0f).ToArray(), imageTokens);
        return Input(widened, png, imageTokens);
    }

    /// <summary>The answer text of a sampled completion.</summary>
    public string Answer(IReadOnlyList<int> completion) => _renderer.ParseResponse(completion).Content.Trim();

    (int[] Tokens, float[] Weights) Widen(IReadOnlyList<int> tokens, IReadOnlyList<float> weights, int imageTokens)
    {
        int at = tokens.ToList().IndexOf(_pad);
        if (at < 0 || tokens.Skip(at + 1).Contains(_pad)) throw new ArgumentException("the rendered chat must hold exactly one <|image_pad|>");
        int[] widened = [.. tokens.Take(at), .. Enumerable.Repeat(_pad, imageTokens), .. tokens.Skip(at + 1)];
        float[] w = [.. weights.Take(at), .. Enumerable.Repeat(0f, imageTokens), .. weights.Skip(at + 1)];
        return (widened, w);
    }

    /// <summary>Text before the pads, the image in their place, text after.</summary>
    ModelInput Input(IReadOnlyList<int> tokens, byte[] png, int imageTokens)
    {
        int at = tokens.ToList().IndexOf(_pad);
        return new ModelInput(
        [
            new EncodedTextChunk(tokens.Take(at).ToArray()),
            new ImageChunk(Convert.ToBase64String(png), "png", imageTokens),
            new EncodedTextChunk(tokens.Skip(at + imageTokens).ToArray()),
        ]);
    }
}
