namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The tokenizer keys llama.cpp (llama-vocab.cpp) treats as optional, and what import
/// does without them: tokenizer.ggml.pre defaults to 'default', add_bos_token to true for the
/// Llama 3 pre-tokenizer and false otherwise, an id outside the vocabulary is ignored. One
/// deliberate difference: llama.cpp defaults a 'gpt2' vocabulary's bos and eos to token 11 (a
/// Falcon-era placeholder); we leave them unset, because token 11 of another vocabulary is an
/// ordinary token and treating it as end-of-sequence would cut generations short.</summary>
internal static class GgufTokenizerDefaults
{
    public static int? BosTokenId(GgufMetadata m) => SpecialToken(m, "tokenizer.ggml.bos_token_id");

    public static int? EosTokenId(GgufMetadata m) => SpecialToken(m, "tokenizer.ggml.eos_token_id");

    public static int? PadTokenId(GgufMetadata m) => SpecialToken(m, "tokenizer.ggml.padding_token_id");

    public static string PreTokenizer(GgufMetadata m) => m.OptionalString("tokenizer.ggml.pre") ?? "default";

    public static bool AddBos(GgufMetadata m) =>
        m.OptionalBool("tokenizer.ggml.add_bos_token") ?? PreTokenizer(m) is GgufPreTokenizer.Llama3 or "llama3";

    static int? SpecialToken(GgufMetadata m, string key) =>
        m.OptionalInteger(key) is long id && id >= 0 && id < VocabularySize(m) ? (int)id : null;

    static int VocabularySize(GgufMetadata m) => m.Find("tokenizer.ggml.tokens") is string[] tokens ? tokens.Length : 0;
}
