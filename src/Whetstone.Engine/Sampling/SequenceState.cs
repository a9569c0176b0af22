using System.Text;
using Whetstone.Tokenization;

namespace Whetstone.Engine.Sampling;

/// <summary>One sequence being decoded: its tokens so far, their logprobs, the text for stop
/// strings, and its own random stream.</summary>
internal sealed class SequenceState : TokenChooser.IRow
{
    readonly StreamingDecoder _decoder;
    readonly StringBuilder _text = new();
    readonly HashSet<int> _stopTokens;

    public int RequestIndex { get; }
    public SamplingParams Params { get; }
    public Random Random { get; }
    public IReadOnlyList<ILogitsProcessor> Processors { get; }
    public List<int> Tokens { get; } = [];
    public List<float> Logprobs { get; } = [];
    /// <summary>Position of the next token fed to the model.</summary>
    public int NextPosition { get; private set; }
    /// <summary>Rotary position minus cache slot for the generated tokens: negative after an image
    /// prompt, whose M-RoPE positions advance by the image's larger side only (0 for text).</summary>
    public long RopeDelta { get; init; }
    public StopReason? StopReason { get; private set; }
    public bool Finished => StopReason is not null;

    public SequenceState(int requestIndex, int promptLength, SamplingParams parameters, int seed,
        StreamingDecoder decoder, IEnumerable<int> stopTokens)
    {
        RequestIndex = requestIndex;
        Params = parameters;
        Random = new Random(seed);
        Processors = parameters.CreateProcessors();
        NextPosition = promptLength;
        _decoder = decoder;
        _stopTokens = [.. stopTokens, .. parameters.StopTokenIds];
    }

    public void Append(int token, float logprob)
    {
        Tokens.Add(token);
        Logprobs.Add(logprob);
        NextPosition++;
        foreach (var p in Processors) p.Accept(token);
        if (_stopTokens.Contains(token)) { StopReason = Sampling.StopReason.Stop; return; }
        if (Params.Stop.Count > 0)
        {
            string piece = _decoder.Append(token);
            _text.Append(piece);
            if (piece.Length > 0 && EndsAStopString(piece.Length)) { StopReason = Sampling.StopReason.Stop; return; }
        }
        if (Tokens.Count >= Params.MaxTokens) StopReason = Sampling.StopReason.Length;
    }

    // Only the tail can hold a new match: the new piece plus the longest stop string.
    bool EndsAStopString(int newChars)
    {
        foreach (var stop in Params.Stop)
        {
            int start = Math.Max(0, _text.Length - newChars - stop.Length + 1);
            if (_text.ToString(start, _text.Length - start).Contains(stop, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    public SampledSequence ToResult() => new(Tokens.ToArray(), Logprobs.ToArray(), StopReason ?? Sampling.StopReason.Length);
}
