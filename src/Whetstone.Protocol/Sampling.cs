namespace Whetstone.Protocol;

/// <summary>A sampling session on a base model, or on a sampler checkpoint
/// (whet://run/sampler_weights/name) — exactly one of the two.</summary>
public sealed record CreateSamplingSessionRequest
{
    public string? BaseModel { get; init; }
    public string? ModelPath { get; init; }
    /// <summary>The SDK session (see <see cref="SessionRoutes"/>) the sampler belongs to, if any.</summary>
    public string? SessionId { get; init; }
}

public sealed record SamplingSessionInfo(string SessionId, string BaseModel, string? ModelPath);

/// <summary>Differs from Tinker deliberately in one way: stop strings and stop token ids are two
/// fields rather than one field of either type, so each is typed on the wire.</summary>
public sealed record SamplingParams
{
    public int MaxTokens { get; init; } = 16;
    public double Temperature { get; init; } = 1.0;
    public int TopK { get; init; } = -1;
    public double TopP { get; init; } = 1.0;
    public IReadOnlyList<string>? Stop { get; init; }
    public IReadOnlyList<int>? StopTokenIds { get; init; }
    public int? Seed { get; init; }
}

public sealed record SampleRequest(ModelInput Prompt, SamplingParams SamplingParams)
{
    public int NumSamples { get; init; } = 1;
    public bool PromptLogprobs { get; init; }
    public int TopkPromptLogprobs { get; init; }
    /// <summary>Also return each sample's routed experts (mixture-of-experts models), to hand
    /// back in forward_backward for routing replay.</summary>
    public bool IncludeRouting { get; init; }
}

public sealed record SampledSequence(IReadOnlyList<int> Tokens, IReadOnlyList<double> Logprobs, string StopReason)
{
    /// <summary>With include_routing: the experts of the prompt and of every token but the last.</summary>
    public RoutedExperts? RoutedExperts { get; init; }
}

public sealed record TopkLogprob(int Token, double Logprob);

public sealed record SampleOutput(IReadOnlyList<SampledSequence> Sequences)
{
    public IReadOnlyList<double?>? PromptLogprobs { get; init; }
    public IReadOnlyList<IReadOnlyList<TopkLogprob>?>? TopkPromptLogprobs { get; init; }
}

public sealed record ComputeLogprobsRequest(ModelInput Prompt);

public sealed record ComputeLogprobsOutput(IReadOnlyList<double?> Logprobs);
