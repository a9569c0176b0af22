namespace Whetstone.Tokenization;

/// <summary>
/// One pre-tokenizer step: split every piece by a regex (Hugging Face's behavior "Isolated"), or
/// put a space before every piece that lacks one (ByteLevel's add_prefix_space).
/// </summary>
internal readonly record struct PreTokenizerStep(CodePointRegex? IsolatedSplit, bool AddPrefixSpace)
{
    public static PreTokenizerStep Split(CodePointRegex regex) => new(regex, false);

    public static PreTokenizerStep PrefixSpace => new(null, true);
}

/// <summary>
/// The pre-tokenizer of a byte-level tokenizer, flattened into steps. The byte-to-character
/// mapping of the ByteLevel pre-tokenizer happens in <see cref="HuggingFaceTokenizer"/> just
/// before the BPE model.
/// </summary>
internal sealed class PreTokenizerPipeline(IReadOnlyList<PreTokenizerStep> steps)
{
    public List<string> Split(string text)
    {
        var pieces = new List<string> { text };
        foreach (var step in steps)
        {
            if (step.AddPrefixSpace)
            {
                for (int i = 0; i < pieces.Count; i++)
                {
                    if (!pieces[i].StartsWith(' ')) pieces[i] = " " + pieces[i];
                }
            }
            else if (step.IsolatedSplit is { } regex)
            {
                var next = new List<string>(pieces.Count * 2);
                foreach (string piece in pieces) regex.SplitIsolated(piece, next);
                pieces = next;
            }
        }
        return pieces;
    }
}
