using Whetstone.Engine.Lora;

namespace Whetstone.Engine.Training;

/// <summary>One run's share of a learner pass: its adapter (null = the network's own weights),
/// its data, and either a built-in loss or — for custom losses — dL/dlogprob per token, applied
/// through the linear surrogate Σ logp · dL/dlogp, whose gradient equals the custom loss's.</summary>
public sealed record LearnerWork(LoraAdapter? Adapter, IReadOnlyList<Datum> Data)
{
    public LossSpec? Loss { get; init; }
    public IReadOnlyList<IReadOnlyList<float>>? LogprobGradients { get; init; }
}

/// <summary>Per datum, log p(target) at every position; the summed loss; token counts.</summary>
public sealed record LearnerResult(IReadOnlyList<float[]> Logprobs, double Loss, long Tokens)
{
    public IReadOnlyDictionary<string, double> Metrics => new Dictionary<string, double>
    {
        ["loss:sum"] = Loss,
        ["tokens:sum"] = Tokens,
    };
}
