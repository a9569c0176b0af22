namespace Whetstone.Engine.Sampling;

/// <summary>How to draw a completion. The logprob reported for each sampled token is always
/// log p(token | prefix) under the model's own distribution — temperature 1, no top-k/top-p
/// truncation — which is what the learner computes for the same tokens, so importance ratios
/// start at exactly 1 whatever these settings are. Temperature, top_k and top_p only shape the
/// distribution the token is drawn from.</summary>
public sealed record SamplingParams
{
    public int MaxTokens { get; init; } = 16;
    /// <summary>0 = greedy (argmax).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep the k most likely tokens; 0 or -1 = off.</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of tokens whose probability reaches top_p; 1 = off.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Strings that end a sequence when they appear in its decoded text; the token that
    /// completes one is kept in the output (as is a stop token).</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>Token ids that end a sequence, in addition to the model's end-of-sequence ids.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    /// <summary>Keep going past the model's end-of-sequence tokens (benchmarks, as vLLM's ignore_eos).</summary>
    public bool IgnoreEos { get; init; }
    /// <summary>Same seed, prompt and settings → same tokens. Null draws a fresh seed.</summary>
    public int? Seed { get; init; }
    /// <summary>OpenAI's logit_bias: token id → amount in [−100, 100] added to its logit.</summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = new Dictionary<int, float>();
    /// <summary>OpenAI's presence_penalty in [−2, 2]: subtracted once from every token already generated.</summary>
    public double PresencePenalty { get; init; }
    /// <summary>OpenAI's frequency_penalty in [−2, 2]: subtracted per earlier occurrence in the generation.</summary>
    public double FrequencyPenalty { get; init; }
    /// <summary>Makes a fresh constraint (e.g. a JSON grammar) for each sampled row; null = none.</summary>
    public Func<ILogitsProcessor>? Constraint { get; init; }

    public const float MaxLogitBias = 100;
    public const double MaxPenalty = 2;

    /// <summary>The row's processors, in the order OpenAI applies them: penalties, bias, then the constraint's mask.</summary>
    internal IReadOnlyList<ILogitsProcessor> CreateProcessors()
    {
        if (PresencePenalty == 0 && FrequencyPenalty == 0 && LogitBias.Count == 0 && Constraint is null) return [];
        var processors = new List<ILogitsProcessor>();
        if (PresencePenalty != 0 || FrequencyPenalty != 0) processors.Add(new RepetitionPenaltyProcessor(PresencePenalty, FrequencyPenalty));
        if (LogitBias.Count > 0) processors.Add(new LogitBiasProcessor(LogitBias));
        if (Constraint is not null) processors.Add(Constraint());
        return processors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public void Validate(int vocabSize)
    {
        if (MaxTokens < 1) throw new SamplingArgumentException("max_tokens", $"= {MaxTokens} must be at least 1");
        if (double.IsNaN(Temperature) || Temperature < 0) throw new SamplingArgumentException("temperature", $"= {Temperature} must be ≥ 0");
        if (TopK < -1) throw new SamplingArgumentException("top_k", $"= {TopK} must be ≥ 0 (or -1 for off)");
        if (double.IsNaN(TopP) || TopP <= 0 || TopP > 1) throw new SamplingArgumentException("top_p", $"= {TopP} must be in (0, 1]");
        foreach (var s in Stop)
            if (string.IsNullOrEmpty(s)) throw new SamplingArgumentException("stop", "contains an empty string");
        foreach (var id in StopTokenIds)
            if (id < 0 || id >= vocabSize) throw new SamplingArgumentException("stop_token_ids", $"contains {id}, outside the vocabulary [0, {vocabSize})");
        foreach (var (id, bias) in LogitBias)
        {
            if (id < 0 || id >= vocabSize) throw new SamplingArgumentException("logit_bias", $"names token {id}, outside the vocabulary [0, {vocabSize})");
            if (!(Math.Abs(bias) <= MaxLogitBias)) throw new SamplingArgumentException("logit_bias", $"[{id}] = {bias} must be between -{MaxLogitBias} and {MaxLogitBias}");
        }
        if (!(Math.Abs(PresencePenalty) <= MaxPenalty)) throw new SamplingArgumentException("presence_penalty", $"= {PresencePenalty} must be between -{MaxPenalty} and {MaxPenalty}");
        if (!(Math.Abs(FrequencyPenalty) <= MaxPenalty)) throw new SamplingArgumentException("frequency_penalty", $"= {FrequencyPenalty} must be between -{MaxPenalty} and {MaxPenalty}");
    }
}

/// <summary>A bad sampling request; <see cref="Field"/> names what to fix.</summary>
public sealed class SamplingArgumentException(string field, string reason) : ArgumentException($"{field} {reason}")
{
    public string Field { get; } = field;
}
