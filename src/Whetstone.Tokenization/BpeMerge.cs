namespace Whetstone.Tokenization;

/// <summary>
/// One BPE merge: two vocabulary tokens, spelled in byte-level characters ("Ġ" for a space), whose
/// concatenation becomes a token of its own.
/// </summary>
public readonly record struct BpeMerge(string Left, string Right)
{
    public string Merged => Left + Right;
}
