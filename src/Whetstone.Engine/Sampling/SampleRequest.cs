namespace Whetstone.Engine.Sampling;

/// <summary>One prompt to complete <see cref="NumSamples"/> times. The prompt is prefilled once
/// and its cache shared by all samples.</summary>
public sealed record SampleRequest(IReadOnlyList<int> Prompt, int NumSamples, SamplingParams Params)
{
    /// <summary>Also return log p(prompt[t] | prompt[..t]) for every prompt token (first is null).</summary>
    public bool IncludePromptLogprobs { get; init; }
    /// <summary>Also return the k most likely tokens at every prompt position (0 = none).</summary>
    public int TopkPromptLogprobs { get; init; }
    /// <summary>The LoRA adapter to sample from; null = the base model. Requests with different
    /// adapters share one batch.</summary>
    public Lora.LoraAdapter? Adapter { get; init; }
    /// <summary>Also report the k most likely tokens at every sampled position (0 = none). Only
    /// the running <see cref="DecodeBatch"/> reports them (the OpenAI API's top_logprobs).</summary>
    public int TopLogprobs { get; init; }
    /// <summary>Images over image pad tokens of the prompt (vision-language models): the prefill
    /// runs them through the tower; decoding continues with the prompt's M-RoPE offset.</summary>
    public IReadOnlyList<Models.Vision.PlacedImage> Images { get; init; } = [];
    /// <summary>Also return each sample's experts per sparse layer for every token the model ran
    /// (the prompt and every sampled token but the last), for routing replay. MoE models only.</summary>
    public bool IncludeRouting { get; init; }
}

public enum StopReason { Stop, Length }

public readonly record struct TokenLogprob(int Token, float Logprob);

public sealed record SampledSequence(IReadOnlyList<int> Tokens, IReadOnlyList<float> Logprobs, StopReason StopReason)
{
    /// <summary>With <see cref="SampleRequest.IncludeRouting"/>: the experts that computed this
    /// sample, prompt + tokens[..^1] (the input a learner datum of this sample has).</summary>
    public Models.RoutedExperts? Routing { get; init; }
}

public sealed record SampleResult(IReadOnlyList<SampledSequence> Sequences)
{
    /// <summary>Per prompt token, null for the first (nothing predicts it).</summary>
    public IReadOnlyList<float?>? PromptLogprobs { get; init; }
    public IReadOnlyList<IReadOnlyList<TokenLogprob>?>? TopkPromptLogprobs { get; init; }
}
