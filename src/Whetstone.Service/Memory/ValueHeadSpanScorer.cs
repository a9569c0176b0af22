namespace Whetstone.Service.Memory;

/// <summary>The learned scorer: a value-head run reads every span as it stands in the memory (one
/// score call per turn, all spans in one batch) and σ(logit) is the span's value — the probability
/// that a later question needs it (SpanValueRecipe trains it on hindsight labels, SpanValueRlRecipe
/// on the reader's accuracy). The head reads a span alone, not the memory around it or the new
/// turn. Token values are flat: the extractive refill's tiers (names, numbers, dates first) decide
/// what a compressed span keeps. The service's memory update and the benchmark use this same class;
/// only <paramref name="scoreLogits"/> differs (the service's run calls, or the SDK).</summary>
internal sealed class ValueHeadSpanScorer(Func<IReadOnlyList<IReadOnlyList<int>>, CancellationToken, Task<IReadOnlyList<double>>> scoreLogits) : ISpanScorer
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
            var logits = await scoreLogits(scored.Select(i => spans[i].Tokens).ToArray(), cancellationToken);
            if (logits.Count != scored.Length) throw new InvalidOperationException($"the value head returned {logits.Count} scores for {scored.Length} spans");
            for (int j = 0; j < scored.Length; j++) values[scored[j]] = Sigmoid(logits[j]);
            work.ScoringTokens += scored.Sum(i => spans[i].Tokens.Count);
            work.ScoringCalls++;
        }
        return new SpanScores(values, spans.Select(s => (IReadOnlyList<float>)new float[s.Tokens.Count]).ToArray());
    }

    public static double Sigmoid(double logit) => 1 / (1 + Math.Exp(-logit));
}
