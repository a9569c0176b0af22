namespace Whetstone.Tokenization;

/// <summary>
/// What <see cref="ByteLevelTokenizerFiles.Write"/> produced: the ids a model config and
/// generation_config.json need.
/// </summary>
/// <param name="TokenCount">Tokens in the tokenizer (bytes, merges and special tokens); ids run 0..TokenCount-1.</param>
/// <param name="ModelVocabSize">TokenCount rounded up to the requested multiple: the embedding rows a model should have.</param>
/// <param name="BosTokenId">Begin-of-text id, or null when the style has none.</param>
/// <param name="EosTokenIds">Every id that ends generation, the tokenizer's eos_token first.</param>
/// <param name="PadTokenId">Padding id, or null when the style has none.</param>
/// <param name="SpecialTokenIds">Every special token by content.</param>
public sealed record GeneratedTokenizer(
    int TokenCount,
    int ModelVocabSize,
    int? BosTokenId,
    IReadOnlyList<int> EosTokenIds,
    int? PadTokenId,
    IReadOnlyDictionary<string, int> SpecialTokenIds);
