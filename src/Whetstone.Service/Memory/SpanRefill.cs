using Whetstone.Chat;

namespace Whetstone.Service.Memory;

/// <summary>The refill step: a span allotted k tokens is rewritten by the model within k tokens,
/// from a renderer prompt that shows it the rest of the memory and the span; a rewrite that is
/// not grounded in the span (fewer than <see cref="MemoryPolicy.GroundedFraction"/> of its words
/// occur there) or is empty is replaced by the extractive method: the span's k highest-value
/// tokens, in their order. The zoo's small models rarely pass the check, so with them the
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
                double grounded = Grounded(model.Tokenizer.Decode(rewrite), model.Tokenizer.Decode(span.Tokens));
                if (rewrite.Count > 0 && rewrite.Count <= k && grounded >= policy.GroundedFraction)
                    return (span with { Tokens = rewrite.ToArray(), TokenValues = [], Form = SpanForm.ModelRewrite }, $"model rewrite (grounded {grounded:F2})");
                return (Extractive(span, k), $"extractive: the model's rewrite was grounded {grounded:F2} < {policy.GroundedFraction:F2}");
            }
            return (Extractive(span, k), $"extractive: the rewrite prompt ({prompt.Count} + {k} tokens) exceeds the context of {model.ContextLength}");
        }
        return (Extractive(span, k), "extractive");
    }

    /// <summary>The k tokens of highest value (ties: earlier first), in the span's order.</summary>
    public static MemorySpan Extractive(MemorySpan span, int k)
    {
        var values = span.TokenValues.Count == span.Tokens.Count ? span.TokenValues : Enumerable.Repeat(0f, span.Tokens.Count).ToArray();
        var keep = Enumerable.Range(0, span.Tokens.Count).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k).Order().ToArray();
        return span with
        {
            Tokens = keep.Select(i => span.Tokens[i]).ToArray(),
            TokenValues = keep.Select(i => values[i]).ToArray(),
            Form = SpanForm.Extractive,
        };
    }

    IReadOnlyList<int> Prompt(MemorySpan span, int k, string surroundingMemory)
    {
        string instruction = string.Format(System.Globalization.CultureInfo.InvariantCulture, Instruction, k);
        string note = $"Memory:\n{surroundingMemory}\n\nNote:\n{model.Tokenizer.Decode(span.Tokens)}";
        return model.Renderer is { } renderer
            ? renderer.BuildGenerationPrompt([new ChatMessage("system", instruction), new ChatMessage("user", note)])
            : model.Tokenizer.Encode($"{instruction}\n\n{note}\n\nRewritten note:\n");
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
