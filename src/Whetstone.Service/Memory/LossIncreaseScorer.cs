namespace Whetstone.Service.Memory;

/// <summary>The model-native heuristic scorer: a span's value is how much the model's loss on the
/// probe (the new turn) rises when that span is taken out of the memory,
/// Δᵢ = (NLL(probe | memory without span i) − NLL(probe | memory)) / |probe|, in nats per probe token.
/// A token's value is the model's surprisal at it in the full memory, −log p(token | memory before it):
/// predictable tokens carry little and go first when a span is compressed extractively.
/// Cost: one compute_logprobs pass over (memory + probe) and one per span without it —
/// at most (MaxSpans + 1) × (B + MaxProbeTokens) tokens, whatever the length of the history.
/// With <paramref name="prefixKey"/> (the memory's key) the engine keeps every pass's KV: the full
/// pass under the key, the pass without the span at index i under key/without/i (by index, not
/// span id, so a memory holds at most MaxSpans + 1 entries however many spans it has seen). A pass
/// prefills only what follows the longest prefix it shares with a kept one: this turn's pass
/// without span i shares spans 0..i−1 with the full pass, and with last turn's pass without span i
/// it shares everything up to the first span that changed since (spans kept verbatim stay in place and the
/// new turn is appended, so in a turn that changes nothing old only the new probe is prefilled).</summary>
internal sealed class LossIncreaseScorer(IMemoryModel model, MemoryPolicy policy, string? prefixKey = null) : ISpanScorer
{
    public string Name => "loss-increase";

    public async Task<SpanScores> ScoreAsync(IReadOnlyList<MemorySpan> spans, IReadOnlyList<int> probe, MemoryTurnWork work, CancellationToken cancellationToken)
    {
        if (spans.Count == 0) return new SpanScores([], []);
        var probeTokens = probe.Skip(Math.Max(0, probe.Count - policy.MaxProbeTokens)).ToArray();
        var memory = spans.SelectMany(s => s.Tokens).ToArray();
        var full = await ProbeLogprobsAsync([.. memory, .. probeTokens], memory.Length, prefixKey, [], cancellationToken);
        Count(work, full);
        double fullNll = full.ProbeNll;

        var tokenValues = new IReadOnlyList<float>[spans.Count];
        int offset = 0;
        for (int i = 0; i < spans.Count; i++)
        {
            int n = spans[i].Tokens.Count;
            // The very first token has no prediction: nothing says it is cheap to lose, so it scores as the most surprising.
            tokenValues[i] = Enumerable.Range(offset, n).Select(t => full.Logprobs[t] is { } lp ? -lp : float.MaxValue).ToArray();
            offset += n;
        }

        // The passes without one span each are independent (each reads only the full pass and its
        // own last turn's entry), so they go to the worker together: one cycle serves them all,
        // instead of one queue hop and gather wait per span. Each pass is computed on its own, so
        // the values are the same as one at a time.
        var ablations = Enumerable.Range(0, spans.Count).Select(i =>
        {
            var without = spans.Where((_, j) => j != i).SelectMany(s => s.Tokens).ToArray();
            return ProbeLogprobsAsync([.. without, .. probeTokens], without.Length,
                prefixKey is null ? null : $"{prefixKey}/without/{i}", prefixKey is null ? [] : [prefixKey], cancellationToken);
        }).ToArray();
        var results = await Task.WhenAll(ablations);
        var values = new double[spans.Count];
        for (int i = 0; i < spans.Count; i++)
        {
            Count(work, results[i]);
            values[i] = (results[i].ProbeNll - fullNll) / Math.Max(1, probeTokens.Length - 1);
        }
        return new SpanScores(values, tokenValues);
    }

    static void Count(MemoryTurnWork work, Pass pass)
    {
        work.ScoringTokens += pass.Tokens;
        work.ScoringReusedTokens += pass.Reused;
        work.ScoringCalls++;
    }

    sealed record Pass(IReadOnlyList<float?> Logprobs, double ProbeNll, int Tokens, int Reused);

    async Task<Pass> ProbeLogprobsAsync(int[] tokens, int probeStart, string? keepAs, IReadOnlyList<string> reuseAlsoFrom, CancellationToken cancellationToken)
    {
        IReadOnlyList<float?> logprobs;
        int reused = 0;
        if (keepAs is null) logprobs = await model.LogprobsAsync(tokens, cancellationToken);
        else (logprobs, reused) = await model.LogprobsAsync(tokens, keepAs, keepPrefix: true, reuseAlsoFrom, cancellationToken);
        // The probe's first token is left out in every pass: with the whole memory ablated nothing predicts it.
        double nll = 0;
        for (int t = probeStart + 1; t < tokens.Length; t++) nll -= logprobs[t] ?? 0;
        return new Pass(logprobs, nll, tokens.Length, reused);
    }
}
