using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Training;

/// <summary>The built-in token-level losses of Tinker, each summed over tokens (SPEC.md).
/// p = learner, q = sampler, r = p/q = exp(logp − logq).</summary>
public enum LossFunction
{
    /// <summary>−Σ logp · w</summary>
    CrossEntropy,
    /// <summary>−Σ r · A; with a tis_cap C, truncated importance sampling: −Σ min(r, C) · A
    /// with gradient min(r, C) · ∇logp · A (the cap bounds what a sampler/learner mismatch —
    /// e.g. a token whose experts differ between sampler and learner — can weigh).</summary>
    ImportanceSampling,
    /// <summary>−Σ min(r·A, clip(r, lo, hi)·A)</summary>
    Ppo,
    /// <summary>−Σ stopgrad(clip(r, lo, hi)) · logp · A</summary>
    Cispo,
    /// <summary>−Σ (logp·A − ½β(logp − logq)²)</summary>
    Dro,
}

/// <summary>A loss and its config (loss_fn_config).</summary>
public sealed record LossSpec(LossFunction Function)
{
    public double ClipLowThreshold { get; init; } = 0.8;
    public double ClipHighThreshold { get; init; } = 1.2;
    public double Beta { get; init; } = 0.05;
    /// <summary>Truncated importance sampling cap (loss_fn_config.tis_cap); null = none.</summary>
    public double? TisCap { get; init; }

    public static LossSpec Parse(string name, IReadOnlyDictionary<string, double>? config = null)
    {
        var function = name switch
        {
            "cross_entropy" => LossFunction.CrossEntropy,
            "importance_sampling" => LossFunction.ImportanceSampling,
            "ppo" => LossFunction.Ppo,
            "cispo" => LossFunction.Cispo,
            "dro" => LossFunction.Dro,
            _ => throw new TrainingArgumentException("loss_fn", $"'{name}' is not one of cross_entropy, importance_sampling, ppo, cispo, dro"),
        };
        var spec = new LossSpec(function);
        foreach (var (key, value) in config ?? new Dictionary<string, double>())
        {
            spec = key switch
            {
                "clip_low_threshold" when function is LossFunction.Ppo or LossFunction.Cispo => spec with { ClipLowThreshold = value },
                "clip_high_threshold" when function is LossFunction.Ppo or LossFunction.Cispo => spec with { ClipHighThreshold = value },
                "beta" when function is LossFunction.Dro => spec with { Beta = value },
                "tis_cap" when function is LossFunction.ImportanceSampling => spec with { TisCap = value },
                _ => throw new TrainingArgumentException($"loss_fn_config.{key}", $"is not a setting of {name}"),
            };
        }
        if (!(spec.ClipLowThreshold > 0 && spec.ClipLowThreshold <= 1 && spec.ClipHighThreshold >= 1))
            throw new TrainingArgumentException("loss_fn_config", $"clip thresholds ({spec.ClipLowThreshold}, {spec.ClipHighThreshold}) must satisfy 0 < low ≤ 1 ≤ high");
        if (!(spec.Beta >= 0)) throw new TrainingArgumentException("loss_fn_config.beta", $"= {spec.Beta} must be ≥ 0");
        if (spec.TisCap is double cap && !(cap > 0 && double.IsFinite(cap)))
            throw new TrainingArgumentException("loss_fn_config.tis_cap", $"= {cap} must be a positive finite number");
        return spec;
    }

    public string Name => Function switch
    {
        LossFunction.CrossEntropy => "cross_entropy",
        LossFunction.ImportanceSampling => "importance_sampling",
        LossFunction.Ppo => "ppo",
        LossFunction.Cispo => "cispo",
        LossFunction.Dro => "dro",
        _ => throw new ArgumentOutOfRangeException(),
    };

    /// <summary>Which loss_fn_inputs beyond target_tokens this loss reads.</summary>
    public (bool Weights, bool Logprobs, bool Advantages) Needs => Function switch
    {
        LossFunction.CrossEntropy => (true, false, false),
        _ => (false, true, true),
    };

    /// <summary>The summed loss over tokens. All arguments are flat [N] over the valid tokens;
    /// logp carries the gradient, the others are constants.</summary>
    public Tensor Compute(Tensor logp, Tensor? weights, Tensor? samplerLogprobs, Tensor? advantages)
    {
        switch (Function)
        {
            case LossFunction.CrossEntropy:
                return -(logp * weights!).sum();
            case LossFunction.ImportanceSampling:
            {
                var ratio = (logp - samplerLogprobs!).exp();
                if (TisCap is not double cap) return -(ratio * advantages!).sum();
                // stopgrad(min(r, C) / r) · r: the value is min(r, C), the gradient min(r, C)·∇logp.
                using var capAt = cap.ToScalar();   // explicit Scalars: see Runtime/Scalars
                var truncation = (ratio.clamp_max(capAt) / ratio).detach();
                return -(truncation * ratio * advantages!).sum();
            }
            case LossFunction.Ppo:
            {
                var ratio = (logp - samplerLogprobs!).exp();
                using var low = ClipLowThreshold.ToScalar();
                using var high = ClipHighThreshold.ToScalar();
                var clipped = ratio.clamp(low, high);
                return -minimum(ratio * advantages!, clipped * advantages!).sum();
            }
            case LossFunction.Cispo:
            {
                using var low = ClipLowThreshold.ToScalar();
                using var high = ClipHighThreshold.ToScalar();
                var ratio = (logp - samplerLogprobs!).exp().clamp(low, high).detach();
                return -(ratio * logp * advantages!).sum();
            }
            case LossFunction.Dro:
            {
                var difference = logp - samplerLogprobs!;
                return -(logp * advantages! - 0.5 * Beta * difference * difference).sum();
            }
            default:
                throw new ArgumentOutOfRangeException();
        }
    }
}
