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
        var full = await ProbeLogprobsAsync([.. memory, .. probeTokens], memory.Length, work, prefixKey, [], cancellationToken);
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

        var values = new double[spans.Count];
        for (int i = 0; i < spans.Count; i++)
        {
            var without = spans.Where((_, j) => j != i).SelectMany(s => s.Tokens).ToArray();
            var ablated = await ProbeLogprobsAsync([.. without, .. probeTokens], without.Length, work,
                prefixKey is null ? null : $"{prefixKey}/without/{i}", prefixKey is null ? [] : [prefixKey], cancellationToken);
            values[i] = (ablated.ProbeNll - fullNll) / Math.Max(1, probeTokens.Length - 1);
        }
        return new SpanScores(values, tokenValues);
    }

    async Task<(IReadOnlyList<float?> Logprobs, double ProbeNll)> ProbeLogprobsAsync(int[] tokens, int probeStart, MemoryTurnWork work,
        string? keepAs, IReadOnlyList<string> reuseAlsoFrom, CancellationToken cancellationToken)
    {
        IReadOnlyList<float?> logprobs;
        if (keepAs is null) logprobs = await model.LogprobsAsync(tokens, cancellationToken);
        else
        {
            (logprobs, int reused) = await model.LogprobsAsync(tokens, keepAs, keepPrefix: true, reuseAlsoFrom, cancellationToken);
            work.ScoringReusedTokens += reused;
        }
        work.ScoringTokens += tokens.Length;
        work.ScoringCalls++;
        // The probe's first token is left out in every pass: with the whole memory ablated nothing predicts it.
        double nll = 0;
        for (int t = probeStart + 1; t < tokens.Length; t++) nll -= logprobs[t] ?? 0;
        return (logprobs, nll);
    }
}
