using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>What every renderer of the ChatML family shares: turns open with
/// <c>&lt;|im_start|&gt;role\n</c> and end with <c>&lt;|im_end|&gt;</c> (the stop token), generation
/// prompts are the conversation plus the assistant's header, and completions read back the way
/// Qwen models write them. Subclasses say how messages become turns.</summary>
public abstract class ChatMlFamilyRenderer(HuggingFaceTokenizer tokenizer) : IRenderer
{
    protected const string Start = "<|im_start|>", End = "<|im_end|>";

    protected HuggingFaceTokenizer Tokenizer { get; } = tokenizer;

    public IReadOnlyList<int> StopTokenIds { get; } = [tokenizer.TokenToId(End) ?? throw new ArgumentException("the tokenizer has no <|im_end|> token")];

    public abstract SupervisedExample BuildSupervisedExample(IReadOnlyList<ChatMessage> messages, TrainOnWhat trainOn = TrainOnWhat.LastAssistantMessage);

    public IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages)
    {
        var tokens = BuildSupervisedExample(messages, TrainOnWhat.AllMessages).Tokens.ToList();
        tokens.AddRange(Tokenizer.Encode($"{Start}assistant\n"));
        return tokens;
    }

    public ChatMessage ParseResponse(IReadOnlyList<int> completion) => QwenCompletionParser.Parse(Tokenizer, completion, End);

    public ChatMessage ParseText(string text) => QwenCompletionParser.ParseText(text, End);
}
