using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>Llama 3 Instruct's chat template: <c>&lt;|begin_of_text|&gt;</c>, then per message
/// <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\n</c> + the trimmed content +
/// <c>&lt;|eot_id|&gt;</c>; the generation prompt is the assistant header. With tools, Llama 3.1's
/// JSON tool calling (<see cref="Llama3ToolCalls"/>).</summary>
public sealed class Llama3Renderer(HuggingFaceTokenizer tokenizer) : IToolPromptRenderer
{
    const string Begin = "<|begin_of_text|>", HeaderStart = "<|start_header_id|>", HeaderEnd = "<|end_header_id|>", EndOfTurn = "<|eot_id|>";

    /// <summary>As the template writes a call (<see cref="Llama3ToolCalls"/>).</summary>
    public ToolCallFormat CallFormat { get; } = new("{\"name\": ", ", \"parameters\": ", "}");

    public IReadOnlyList<int> StopTokenIds { get; } = [tokenizer.TokenToId(EndOfTurn) ?? throw new ArgumentException("the tokenizer has no <|eot_id|> token")];

    public SupervisedExample BuildSupervisedExample(IReadOnlyList<ChatMessage> messages, TrainOnWhat trainOn = TrainOnWhat.LastAssistantMessage)
    {
        var segments = new RenderedSegments(tokenizer);
        segments.Add(Begin, 0);
        var trained = TrainedMessages.Of(messages, trainOn);
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            segments.Add($"{HeaderStart}{m.Role}{HeaderEnd}\n\n", 0);
            segments.Add(m.Content.Trim() + EndOfTurn, trained[i] ? 1 : 0);
        }
        return segments.ToExample();
    }

    public IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages)
    {
        var tokens = BuildSupervisedExample(messages, TrainOnWhat.AllMessages).Tokens.ToList();
        tokens.AddRange(tokenizer.Encode($"{HeaderStart}assistant{HeaderEnd}\n\n"));
        return tokens;
    }

    public IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages, IReadOnlyList<string> toolsJson) =>
        toolsJson.Count == 0 ? BuildGenerationPrompt(messages) : Llama3ToolCalls.Prompt(tokenizer, messages, toolsJson);

    public ChatMessage ParseResponse(IReadOnlyList<int> completion) => ParseText(tokenizer.Decode(completion));

    public ChatMessage ParseText(string text)
    {
        int end = text.IndexOf(EndOfTurn, StringComparison.Ordinal);
        var content = (end >= 0 ? text[..end] : text).Trim();
        return Llama3ToolCalls.Parse(content) is { } call ? new ChatMessage("assistant", "") { ToolCalls = [call] } : new ChatMessage("assistant", content);
    }
}
