using Whetstone.Chat;

namespace Whetstone.Service.Memory;

/// <summary>The refill step: a span allotted k tokens is rewritten by the model within k tokens,
/// from a renderer prompt that shows it the rest of the memory and the span; a rewrite that is
/// not grounded in the span (fewer than <see cref="MemoryPolicy.GroundedFraction"/> of its words
/// occur there), drops a name, number, date or key of the span that would fit, or is empty is replaced by the extractive method: the span's most valuable whole words within
/// k tokens, exact strings first (<see cref="ExtractiveCompression"/>). The zoo's small models rarely pass the check, so with them the
/// extractive path does the work.</summary>
internal sealed class SpanRefill(IMemoryModel model, MemoryPolicy policy)
{
    public const string Instruction = "You keep a memory of a conversation within a token budget. Rewrite the note below in at most {0} tokens. Keep names, places, dates, numbers and preferences; drop small talk. Answer with the rewritten note only.";

    public async Task<(MemorySpan Span, string How)> CompressAsync(MemorySpan span, int k, string surroundingMemory, int seed, MemoryTurnWork work,
        CancellationToken cancellationToken)
    {
        if (policy.Refill == RefillMode.ModelThenExtractive)
        {
            var prompt = Prompt(span, k, surroundingMemory);
            if (prompt.Count + k <= model.ContextLength)
            {
                var rewrite = await model.GenerateAsync(prompt, k, seed, cancellationToken);
                work.RefillPromptTokens += prompt.Count;
                work.RefillGeneratedTokens += rewrite.Count;
                string text = model.Tokenizer.Decode(rewrite);
                double grounded = Grounded(text, model.Tokenizer.Decode(span.Tokens));
                var lost = LostExactStrings(span, k, text);
                if (rewrite.Count > 0 && rewrite.Count <= k && grounded >= policy.GroundedFraction && lost.Count == 0)
                    return (span with { Tokens = rewrite.ToArray(), TokenValues = [], Form = SpanForm.ModelRewrite }, $"model rewrite (grounded {grounded:F2})");
                return (Extractive(span, k), lost.Count > 0 && grounded >= policy.GroundedFraction
                    ? $"extractive: the model's rewrite lost {string.Join(", ", lost.Take(3))}"
                    : $"extractive: the model's rewrite was grounded {grounded:F2} < {policy.GroundedFraction:F2}");
            }
            return (Extractive(span, k), $"extractive: the rewrite prompt ({prompt.Count} + {k} tokens) exceeds the context of {model.ContextLength}");
        }
        return (Extractive(span, k), "extractive");
    }

    /// <summary>The span's words that fit in k tokens, exact strings (names, numbers, dates, keys)
    /// first, then content words, each tier by value (<see cref="ExtractiveCompression"/>), in the span's order.</summary>
    public static MemorySpan Extractive(MemorySpan span, int k, Func<int, string> tokenText)
    {
        var values = span.TokenValues.Count == span.Tokens.Count ? span.TokenValues : Enumerable.Repeat(0f, span.Tokens.Count).ToArray();
        var keep = ExtractiveCompression.Keep(span.Tokens, values, k, tokenText);
        return span with
        {
            Tokens = keep.Select(i => span.Tokens[i]).ToArray(),
            TokenValues = keep.Select(i => values[i]).ToArray(),
            Form = SpanForm.Extractive,
        };
    }

    MemorySpan Extractive(MemorySpan span, int k) => Extractive(span, k, t => model.Tokenizer.Decode([t]));

    IReadOnlyList<int> Prompt(MemorySpan span, int k, string surroundingMemory)
    {
        string instruction = string.Format(System.Globalization.CultureInfo.InvariantCulture, Instruction, k);
        string note = $"Memory:\n{surroundingMemory}\n\nNote:\n{model.Tokenizer.Decode(span.Tokens)}";
        return model.Renderer is { } renderer
            ? renderer.BuildGenerationPrompt([new ChatMessage("system", instruction), new ChatMessage("user", note)])
            : model.Tokenizer.Encode($"{instruction}\n\n{note}\n\nRewritten note:\n");
    }

    /// <summary>The span's exact strings (names, numbers, dates, keys) missing from the rewrite, when
    /// they would all fit in k tokens (so the extractive method would have kept every one).</summary>
    List<string> LostExactStrings(MemorySpan span, int k, string rewrite)
    {
        var exact = ExtractiveCompression.Words(span.Tokens, new float[span.Tokens.Count], t => model.Tokenizer.Decode([t]))
            .Where(w => w.Tier == ExtractiveCompression.Tier.Exact).ToArray();
        if (exact.Sum(w => w.Length) > k) return [];
        return exact.Select(w => w.Text.Trim().Trim('.', ',', ';', ':', '!', '?', '"', '\'', '(', ')'))
            .Where(w => !rewrite.Contains(w, StringComparison.Ordinal)).ToList();
    }

    /// <summary>The fraction of the rewrite's words (letters and digits) that occur in the original.</summary>
    static double Grounded(string rewrite, string original)
    {
        var words = Words(rewrite);
        if (words.Count == 0) return 0;
        var source = Words(original).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return words.Count(source.Contains) / (double)words.Count;
    }

    static List<string> Words(string text) =>
        System.Text.RegularExpressions.Regex.Matches(text, @"[\p{L}\p{N}]+").Select(m => m.Value).ToList();
}
