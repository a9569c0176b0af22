namespace Whetstone.Engine.Sampling;

/// <summary>A per-row change to the next-token logits before the token is chosen (a bias, a
/// repetition penalty, a grammar's mask), with the row's chosen token fed back after each step.
/// One instance per decode row: it may keep state (counts, a parser). Rows without processors
/// skip this path entirely, so unconstrained rows cost nothing. The logprob reported for the
/// chosen token stays the model's own (see <see cref="SamplingParams"/>).</summary>
public interface ILogitsProcessor
{
    /// <summary>Adjusts one row's logits [V] in place; -infinity forbids a token.</summary>
    void Apply(Span<float> logits);

    /// <summary>The token chosen for this row (after <see cref="Apply"/>).</summary>
    void Accept(int token);
}
