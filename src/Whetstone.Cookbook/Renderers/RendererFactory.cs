using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Renderers;

/// <summary>The renderer a tokenizer's special tokens call for.</summary>
public static class RendererFactory
{
    public static IRenderer For(HuggingFaceTokenizer tokenizer) =>
        tokenizer.TokenToId("<|im_start|>") is not null ? new Qwen3Renderer(tokenizer)
        : tokenizer.TokenToId("<|start_header_id|>") is not null ? new Llama3Renderer(tokenizer)
        : throw new ArgumentException("the tokenizer has neither ChatML (<|im_start|>) nor Llama 3 (<|start_header_id|>) chat tokens");
}
