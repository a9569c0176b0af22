using Whetstone.Protocol;

namespace Whetstone.Service.Loops;

/// <summary>The anchor of a loop iteration: the deployed version's own greedy answers to served
/// prompts, trained as SFT (cross_entropy, AnchorWeight per token) alongside the users' corrections.
/// Corrections alone pulled whet-nano's adapter far enough to break the worked sums it was not
/// corrected on (docs/results/experiential-loop.md runs 3–10); the anchor holds the deployed
/// behaviour where no user asked for a change. Prompts that a correction was given on are left out,
/// so the anchor never pulls against a correction on the same prompt.</summary>
internal static class LoopAnchor
{
    /// <summary>Up to AnchorPrompts distinct served prompts, none a correction's prompt, in a seeded order.</summary>
    public static IReadOnlyList<IReadOnlyList<int>> ChoosePrompts(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<CorrectionExample> corrections,
        LoopRlSettings rl, int iteration)
    {
        var corrected = new HashSet<string>(corrections.Select(c => Key(c.PromptTokens)));
        var seen = new HashSet<string>();
        var candidates = prompts.Where(p => !corrected.Contains(Key(p)) && seen.Add(Key(p))).ToArray();
        var rng = new Random(StableHash.Seed("loop-anchor", rl.Seed, iteration));
        return candidates.OrderBy(_ => rng.Next()).Take(rl.AnchorPrompts).ToArray();
    }

    /// <summary>Prompt + the deployed version's answer as a cross_entropy datum: weight AnchorWeight on
    /// the answer's first <paramref name="weighted"/> tokens (all when null), 0 on the prompt's and on the rest.</summary>
    public static Datum Datum(IReadOnlyList<int> prompt, IReadOnlyList<int> answer, double weight, int? weighted = null)
    {
        var tokens = prompt.Concat(answer).ToArray();
        int end = prompt.Count + Math.Min(weighted ?? answer.Count, answer.Count);
        var weights = tokens.Select((_, i) => i >= prompt.Count && i < end ? (float)weight : 0f).ToArray();
        return new Datum(ModelInput.FromTokens(tokens[..^1]), new Dictionary<string, TensorData>
        {
            ["target_tokens"] = TensorData.Int64(tokens.Skip(1)),
            ["weights"] = TensorData.Float32(weights.Skip(1)),
        });
    }

    /// <summary>How many of the answer's tokens the anchor weights under <paramref name="scope"/>: all
    /// ("answer"), or ("steps") the fewest whose text reaches past the number of the first "Answer: N",
    /// so the end of turn and anything after that line get weight 0 (0 when there is no such line).</summary>
    public static int WeightedTokens(IReadOnlyList<int> answer, string scope, Func<IReadOnlyList<int>, string> decode)
    {
        if (scope != LoopRlSettings.AnchorScopeSteps) return answer.Count;
        if (ArithmeticAnswer.FirstAnswerEnd(decode(answer)) is not { } end) return 0;
        for (int k = 1; k <= answer.Count; k++)
            if (decode(answer.Take(k).ToArray()).Length >= end) return k;
        return answer.Count;
    }

    const string UserHeader = "<|im_start|>user\n", End = "<|im_end|>";

    /// <summary>The last user message of a ChatML prompt rendered with its special tokens (null when
    /// it is not one): the question alone, without the system message the user sent with it.</summary>
    public static string? LastUserMessage(string renderedPrompt)
    {
        int start = renderedPrompt.LastIndexOf(UserHeader, StringComparison.Ordinal);
        if (start < 0) return null;
        start += UserHeader.Length;
        int end = renderedPrompt.IndexOf(End, start, StringComparison.Ordinal);
        return end < 0 ? null : renderedPrompt[start..end];
    }

    /// <summary>Each prompt as its bare question (<see cref="LastUserMessage"/> re-rendered by
    /// <paramref name="render"/>), distinct ones only; a prompt that is not ChatML is kept as served.</summary>
    public static IReadOnlyList<IReadOnlyList<int>> BareQuestions(IReadOnlyList<IReadOnlyList<int>> prompts, Func<IReadOnlyList<int>, string> decode,
        Func<string, IReadOnlyList<int>> render)
    {
        var seen = new HashSet<string>();
        return prompts.Select(p => LastUserMessage(decode(p)) is { } question ? render(question) : p).Where(p => seen.Add(Key(p))).ToArray();
    }

    static string Key(IReadOnlyList<int> tokens) => string.Join(',', tokens);
}
