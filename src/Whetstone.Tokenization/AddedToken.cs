namespace Whetstone.Tokenization;

/// <summary>
/// An entry of tokenizer.json's added_tokens: text matched whole before pre-tokenization.
/// Special ones are dropped by Decode(skipSpecialTokens: true).
/// </summary>
internal sealed record AddedToken(
    int Id,
    string Content,
    bool SingleWord,
    bool LeftStrip,
    bool RightStrip,
    bool Normalized,
    bool Special);
