using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Memory;

namespace Whetstone.Bench;

/// <summary>The mask's learned scorer for the benchmark: a value-head run (<see cref="Cookbook.LongMemory.SpanValueRecipe"/>)
/// reads every span as it stands in the memory, one score call per turn, and its logit through a
/// sigmoid is the span's value (the probability that a later question needs it). Token values are
/// left flat: the extractive refill's tiers decide what a compressed span keeps. It goes through
/// the SDK's score call; the served memory does not use it yet (no scorer choice on the memory field).</summary>
internal sealed class LearnedSpanScorer(TrainingClient run) : ISpanScorer
{
    public string Name => "value-head";

    public async Task<SpanScores> ScoreAsync(IReadOnlyList<MemorySpan> spans, IReadOnlyList<int> probe, MemoryTurnWork work, CancellationToken cancellationToken)
    {
        if (spans.Count == 0) return new SpanScores([], []);
        // An empty span (nothing to read) is worth 0 and is not sent: the score call refuses empty inputs.
        var scored = Enumerable.Range(0, spans.Count).Where(i => spans[i].Tokens.Count > 0).ToArray();
        var values = new double[spans.Count];
        if (scored.Length > 0)
        {
            var logits = (await (await run.ScoreAsync(scored.Select(i => ModelInput.FromTokens(spans[i].Tokens)).ToArray(), cancellationToken)).ResultAsync(cancellationToken)).Values;
            for (int j = 0; j < scored.Length; j++) values[scored[j]] = 1 / (1 + Math.Exp(-logits[j]));
            work.ScoringTokens += spans.Sum(s => s.Tokens.Count);
            work.ScoringCalls++;
        }
        return new SpanScores(values, spans.Select(s => (IReadOnlyList<float>)new float[s.Tokens.Count]).ToArray());
    }
}
