namespace Whetstone.Tokenization;

/// <summary>What a tokenizer.json (or a tiktoken.model with its tokenizer_config.json) describes, in the form the encoder runs.</summary>
internal sealed record TokenizerDefinition(
    bool NormalizeNfc,
    IReadOnlyList<AddedToken> AddedTokens,
    PreTokenizerPipeline PreTokenizer,
    IBpeModel Model,
    SpecialTokenTemplate Template);

/// <summary>The special tokens the post-processor puts around a single sequence when asked to add them.</summary>
internal sealed record SpecialTokenTemplate(IReadOnlyList<int> PrefixIds, IReadOnlyList<int> SuffixIds)
{
    public static readonly SpecialTokenTemplate None = new([], []);
}
