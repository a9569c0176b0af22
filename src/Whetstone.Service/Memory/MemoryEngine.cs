using System.Globalization;

namespace Whetstone.Service.Memory;

/// <summary>One turn of Memory Diffusion: the new turn's tokens are folded into the memory by
/// mask (score every span against the new turn: <see cref="ISpanScorer"/>) → allocate (split B
/// between the incoming turn and the old spans: <see cref="BudgetAllocator"/>) → refill
/// (rewrite compressed spans within their allotment: <see cref="SpanRefill"/>). A span stating a
/// fact that the new turn marks as updated (same fact key) is superseded first (dropped when every fact it states was updated). The turn comes in as one span per line, so the
/// user's facts and the model's answer are kept or let go apart. Deterministic
/// for a given memory seed and model. Afterwards the memory holds at most B tokens; that is
/// checked here and a violation is an error, never stored.</summary>
internal sealed class MemoryEngine(IMemoryModel model, ISpanScorer scorer, MemoryPolicy policy)
{
    public MemoryPolicy Policy => policy;

    public async Task<(MemoryState Memory, IReadOnlyList<MemoryOperation> Log)> FoldTurnAsync(MemoryState memory, IReadOnlyList<int> turnTokens,
        IReadOnlyList<string> factKeys, DateTimeOffset now, MemoryTurnWork work, CancellationToken cancellationToken = default)
    {
        int turn = memory.Turn + 1;
        var log = new List<MemoryOperation>();
        void Log(string op, string? span, string detail) => log.Add(new MemoryOperation(turn, op, span, detail));

        var incoming = turnTokens.ToArray();
        if (incoming.Length > memory.BudgetTokens)
        {
            Log("truncate", null, $"the turn's {incoming.Length} tokens cut to the budget of {memory.BudgetTokens}");
            incoming = incoming[..memory.BudgetTokens];
        }

        var spans = new List<MemorySpan>();
        foreach (var span in memory.Spans)
        {
            var updated = span.FactKeys.Intersect(factKeys, StringComparer.Ordinal).ToArray();
            if (updated.Length == 0) spans.Add(span);
            else if (updated.Length == span.FactKeys.Count) Log("supersede", span.Id, $"fact {string.Join(", ", updated)} updated by turn {turn}; {span.Tokens.Count} tokens dropped");
            else
            {
                // The span states other facts too ("I am a nurse and I live in Oslo" when only the city changes): it stays, without the updated key.
                var still = span.FactKeys.Except(updated, StringComparer.Ordinal).ToArray();
                spans.Add(span with { FactKeys = still });
                Log("supersede", span.Id, $"fact {string.Join(", ", updated)} updated by turn {turn}; kept for {string.Join(", ", still)}");
            }
        }

        // The history's word counts take the new turn in first: a sentence said again fades at once.
        var wordCounts = HistoryWordCounts.Add(memory.WordCounts, SpanSalience.Keys(incoming, TokenText));
        var pieces = Pieces(incoming);

        // Mask: score what is left against the new turn.
        var scores = await scorer.ScoreAsync(spans, incoming, work, cancellationToken);
        var salience = policy.SalienceWeight == 0 ? new double[spans.Count] : SpanSalience.Of(spans, wordCounts, TokenText);
        for (int i = 0; i < spans.Count; i++)
        {
            double value = scores.SpanValues[i] + policy.SalienceWeight * salience[i];
            if (spans[i].Speaker == "assistant") value *= policy.OwnAnswerWeight;
            double retention = Math.Max(value, policy.RetentionDecay * spans[i].Retention);
            spans[i] = spans[i] with { Retention = retention, TokenValues = scores.TokenValues[i] };
            string own = spans[i].Speaker == "assistant" ? string.Create(CultureInfo.InvariantCulture, $", × {policy.OwnAnswerWeight:F2} (the model's own answer)") : "";
            Log("score", spans[i].Id, string.Create(CultureInfo.InvariantCulture,
                $"{scorer.Name} {scores.SpanValues[i]:F4} nats/token + {policy.SalienceWeight:F2} × salience {salience[i]:F2}{own}, retention {retention:F4}"));
        }

        // Allocate, then refill what was compressed.
        var allocation = BudgetAllocator.Allocate(spans, incoming.Length, memory.BudgetTokens, policy, pieces.Count);
        var kept = allocation.Where(a => a.Action != SpanAction.Drop).Select(a => a.Span).ToList();
        var next = new List<MemorySpan>();
        var rewritten = new List<MemorySpan>();   // compressed this turn: behind the verbatim spans when the policy orders stable spans first
        for (int i = 0; i < allocation.Count; i++)
        {
            var a = allocation[i];
            switch (a.Action)
            {
                case SpanAction.Keep:
                    next.Add(a.Span);
                    Log("keep", a.Span.Id, $"{a.Span.Tokens.Count} tokens verbatim ({a.Reason})");
                    break;
                case SpanAction.Drop:
                    Log("drop", a.Span.Id, $"{a.Span.Tokens.Count} tokens ({a.Reason})");
                    break;
                case SpanAction.Compress:
                    string surrounding = model.Tokenizer.Decode(kept.Where(s => !ReferenceEquals(s, a.Span)).SelectMany(s => s.Tokens).ToArray());
                    var (compressed, how) = await new SpanRefill(model, policy).CompressAsync(a.Span, a.Tokens, surrounding, RefillSeed(memory.Seed, turn, i), work, cancellationToken);
                    if (compressed.Tokens.Count == 0)
                    {
                        // No whole word fits in the allotment: an empty span would only hold a slot.
                        Log("drop", a.Span.Id, $"{a.Span.Tokens.Count} tokens (no whole word fits in {a.Tokens}: {how})");
                        break;
                    }
                    string edit = $"turn {turn}: compressed {a.Span.Tokens.Count} → {compressed.Tokens.Count} tokens ({how})";
                    (policy.StableSpansFirst ? rewritten : next).Add(compressed with { Edits = [.. a.Span.Edits, edit] });
                    Log("compress", a.Span.Id, $"{a.Span.Tokens.Count} → {compressed.Tokens.Count} tokens, {how} ({a.Reason})");
                    break;
            }
        }

        next.AddRange(rewritten);

        // The turn's lines, one span each; the facts the turn states are the user's lines', not the model's answer.
        for (int p = 0; p < pieces.Count; p++)
        {
            var piece = pieces[p];
            string[] keys = piece.Speaker == "assistant" ? [] : factKeys.Distinct(StringComparer.Ordinal).ToArray();
            var added = new MemorySpan(pieces.Count == 1 ? $"t{turn}" : $"t{turn}.{p + 1}", turn, now, piece.Tokens)
            {
                FactKeys = keys, Speaker = piece.Speaker, Edits = [$"turn {turn}: added {piece.Tokens.Length} tokens"],
            };
            next.Add(added);
            Log("add", added.Id, $"{piece.Tokens.Length} tokens" + (piece.Speaker is { } who ? $" said by {who}" : "") + (keys.Length > 0 ? $", facts {string.Join(", ", keys)}" : ""));
        }

        var result = memory with { Turn = turn, UpdatedAt = now, Spans = next, LastTurnWork = work, WordCounts = wordCounts };
        if (result.TokenCount > memory.BudgetTokens)
            throw new InvalidOperationException($"memory '{memory.Id}' would hold {result.TokenCount} tokens, over its budget of {memory.BudgetTokens}");
        Log("turn", null, $"{result.TokenCount}/{memory.BudgetTokens} tokens in {next.Count} spans; processed {work.TotalTokens} tokens " +
            $"(scoring {work.ScoringTokens} in {work.ScoringCalls} passes, {work.ScoringReusedTokens} of them reused from kept KV, refill {work.RefillPromptTokens}+{work.RefillGeneratedTokens}, answer prompt {work.AnswerPromptTokens})");
        return (result, log);
    }

    string TokenText(int token) => model.Tokenizer.Decode([token]);

    /// <summary>The incoming turn's lines (<see cref="SpanSplitter"/>); past the span cap the last lines stay together in one span.</summary>
    IReadOnlyList<SpanSplitter.Piece> Pieces(int[] incoming)
    {
        var lines = SpanSplitter.Lines(incoming, TokenText).ToList();
        int cap = Math.Max(1, policy.MaxSpans);
        if (lines.Count > cap)
            lines = [.. lines.Take(cap - 1), new SpanSplitter.Piece([.. lines.Skip(cap - 1).SelectMany(l => l.Tokens)], lines[cap - 1].Speaker)];
        return lines;
    }

    // Fixed arithmetic, not string.GetHashCode (randomised per process): replays must match across restarts.
    static int RefillSeed(int seed, int turn, int index) => unchecked(seed * 1_000_003 + turn * 7_919 + index);
}
