using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>Builds a token sequence from text pieces, each with its loss weight. Pieces are cut
/// only where the template itself puts a special token or a newline after a header, where a
/// byte-level BPE never merges across, so encoding piece by piece gives the same ids as encoding
/// the whole text (the tests check this against the full text).</summary>
internal sealed class RenderedSegments(HuggingFaceTokenizer tokenizer)
{
    readonly List<int> _tokens = [];
    readonly List<float> _weights = [];

    public void Add(string text, float weight)
    {
        if (text.Length == 0) return;
        var ids = tokenizer.Encode(text);
        _tokens.AddRange(ids);
        _weights.AddRange(Enumerable.Repeat(weight, ids.Count));
    }

    public IReadOnlyList<int> Tokens => _tokens;

    public SupervisedExample ToExample() => new(_tokens.ToArray(), _weights.ToArray());
}
