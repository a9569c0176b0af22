using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>The renderer a model's tokenizer calls for: its special tokens tell the family (Kimi K2's
/// &lt;|im_middle|&gt;, ChatML's &lt;|im_start|&gt;, Llama 3's headers), and
/// for ChatML the chat template tells Qwen3's (think blocks, tool grouping) from plain ChatML.</summary>
public static class RendererFactory
{
    public static IRenderer For(HuggingFaceTokenizer tokenizer) =>
        tokenizer.TokenToId("<|im_middle|>") is not null && tokenizer.TokenToId("<|im_assistant|>") is not null ? new KimiK2Renderer(tokenizer)
        : tokenizer.TokenToId("<|im_start|>") is not null
            ? tokenizer.ChatTemplate?.Contains("<think>", StringComparison.Ordinal) == true ? new Qwen3Renderer(tokenizer) : new ChatMlRenderer(tokenizer)
        : tokenizer.TokenToId("<|start_header_id|>") is not null ? new Llama3Renderer(tokenizer)
        : throw new ArgumentException("the tokenizer has neither Kimi K2 (<|im_middle|>), ChatML (<|im_start|>) nor Llama 3 (<|start_header_id|>) chat tokens");
}
