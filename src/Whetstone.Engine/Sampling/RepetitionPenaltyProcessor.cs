namespace Whetstone.Engine.Sampling;

/// <summary>OpenAI's presence and frequency penalties over the tokens this row has generated so
/// far (not the prompt): logit[j] −= count[j] · frequency_penalty + (count[j] &gt; 0) · presence_penalty.</summary>
internal sealed class RepetitionPenaltyProcessor(double presence, double frequency) : ILogitsProcessor
{
    readonly Dictionary<int, int> _counts = [];

    public void Apply(Span<float> logits)
    {
        foreach (var (token, count) in _counts)
            logits[token] -= (float)(count * frequency + presence);
    }

    public void Accept(int token) => _counts[token] = _counts.GetValueOrDefault(token) + 1;
}
