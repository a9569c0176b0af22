namespace Whetstone.Tokenization;

/// <summary>Everything that differs between the generated tokenizer styles, in one place.</summary>
internal sealed record ByteLevelStyleConventions(
    string PreTokenizerPattern,
    bool NormalizeNfc,
    bool IgnoreMerges,
    IReadOnlyList<string> SpecialTokens,
    string? BosToken,
    string EosToken,
    IReadOnlyList<string> GenerationEosTokens,
    string? PadToken,
    string ChatTemplate)
{
    public static ByteLevelStyleConventions For(ByteLevelTokenizerStyle style) => style switch
    {
        ByteLevelTokenizerStyle.ChatMl => ChatMl,
        ByteLevelTokenizerStyle.Llama3 => Llama3,
        ByteLevelTokenizerStyle.ChatMlVision => ChatMl with { SpecialTokens = [.. ChatMl.SpecialTokens, "<|vision_start|>", "<|vision_end|>", "<|image_pad|>"] },
        _ => throw new ArgumentOutOfRangeException(nameof(style), style, "Unknown tokenizer style."),
    };

    // Qwen2.5-Instruct: generation stops on <|im_end|> and on <|endoftext|>.
    private static readonly ByteLevelStyleConventions ChatMl = new(
        PreTokenizerPatterns.Qwen2,
        NormalizeNfc: true,
        IgnoreMerges: false,
        SpecialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        BosToken: null,
        EosToken: "<|im_end|>",
        GenerationEosTokens: ["<|im_end|>", "<|endoftext|>"],
        PadToken: "<|endoftext|>",
        ChatTemplate:
            "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}");

    // Llama 3 Instruct: generation stops on <|eot_id|> and on <|end_of_text|>; Meta defines no pad token.
    private static readonly ByteLevelStyleConventions Llama3 = new(
        PreTokenizerPatterns.Llama3,
        NormalizeNfc: false,
        IgnoreMerges: true,
        SpecialTokens: ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        BosToken: "<|begin_of_text|>",
        EosToken: "<|eot_id|>",
        GenerationEosTokens: ["<|eot_id|>", "<|end_of_text|>"],
        PadToken: null,
        ChatTemplate:
            "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}");
}
