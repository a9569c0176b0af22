using Whetstone.Tokenization;

namespace Whetstone.Chat.Tests;

/// <summary>Tokenizers of both styles with merges learned from chat-like text, so BPE merges
/// (also across the template's own text) are exercised.</summary>
internal static class RendererTokenizers
{
    static readonly string[] Corpus =
    [
        "You are terse. What is 2+2? The answer is 4. Let me think about it.",
        "user assistant system tool_response tool_call name arguments {\"a\": 2, \"b\": 2}",
        "Hello, world! How are you today? I am fine, thanks. Add the numbers.",
    ];

    static readonly Lazy<HuggingFaceTokenizer> ChatMlTokenizer = new(() => Make(ByteLevelTokenizerStyle.ChatMl));
    static readonly Lazy<HuggingFaceTokenizer> Llama3Tokenizer = new(() => Make(ByteLevelTokenizerStyle.Llama3));

    public static HuggingFaceTokenizer ChatMl => ChatMlTokenizer.Value;
    public static HuggingFaceTokenizer Llama3 => Llama3Tokenizer.Value;

    static HuggingFaceTokenizer Make(ByteLevelTokenizerStyle style)
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-cookbook-tests", style + "-" + Guid.NewGuid().ToString("N"));
        var merges = ByteLevelBpeTrainer.LearnMerges(Enumerable.Repeat(Corpus, 20).SelectMany(c => c), 200, style);
        ByteLevelTokenizerFiles.Write(directory, style, merges);
        return HuggingFaceTokenizer.Load(directory);
    }
}
