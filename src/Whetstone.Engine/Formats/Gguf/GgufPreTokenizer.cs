using Whetstone.Tokenization;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The tokenizer.ggml.pre names llama.cpp knows for the pre-tokenizers we support, and
/// the Hugging Face settings each stands for.</summary>
internal static class GgufPreTokenizer
{
    public const string Llama3 = "llama-bpe";
    public const string Qwen2 = "qwen2";

    /// <summary>Regex, NFC normalisation and ignore_merges of the tokenizer.json to rebuild.</summary>
    public static (string Pattern, bool NormalizeNfc, bool IgnoreMerges) Settings(string name) => name switch
    {
        Llama3 or "llama3" => (PreTokenizerPatterns.Llama3, false, true),
        // Qwen's tokenizer.json normalises to NFC; llama.cpp does not, which only matters for
        // text that is not already NFC.
        Qwen2 or "qwen3" => (PreTokenizerPatterns.Qwen2, true, false),
        _ => throw new NotSupportedException($"tokenizer.ggml.pre = '{name}' is not supported (supported: {Llama3}, {Qwen2})"),
    };
}
