namespace Whetstone.Engine.Sampling;

/// <summary>OpenAI's logit_bias: a fixed amount added to chosen tokens' logits at every step
/// (−100 in effect bans a token, +100 in effect forces it).</summary>
internal sealed class LogitBiasProcessor(IReadOnlyDictionary<int, float> bias) : ILogitsProcessor
{
    public void Apply(Span<float> logits)
    {
        foreach (var (token, amount) in bias) logits[token] += amount;
    }

    public void Accept(int token) { }
}
