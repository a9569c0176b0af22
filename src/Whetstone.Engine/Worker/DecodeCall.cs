using Whetstone.Engine.Sampling;

namespace Whetstone.Engine.Worker;

/// <summary>Which decode traffic goes first when the decode loop's rows or time are scarce.</summary>
public enum DecodePriority
{
    /// <summary>A user waiting on an answer (the OpenAI API).</summary>
    Live,
    /// <summary>Training-API samples, RL rollouts, evals: throughput matters, not each token's latency.</summary>
    Batch,
}

/// <summary>Every kind of sampling: one prompt, n samples, decoded in the worker's running decode
/// batch. Completes with the <see cref="SampleResult"/> when all its samples finished (the
/// training API's sample); with a <see cref="Stream"/> its tokens are also published as they come
/// (the OpenAI API). <see cref="Request"/> carries no adapter: the worker attaches the one
/// loaded under <see cref="AdapterKey"/>.</summary>
public sealed class DecodeCall(string requestId, SampleRequest request) : WorkerCall(requestId)
{
    public SampleRequest Request { get; } = request;
    /// <summary>A LoRA adapter loaded with <see cref="EngineWorker.LoadAdapterAsync"/>; null: none.</summary>
    public string? AdapterKey { get; init; }
    /// <summary>A whole model loaded with <see cref="EngineWorker.LoadFullModelAsync"/>; null: the base model.</summary>
    public string? ModelKey { get; init; }
    public DecodePriority Priority { get; init; } = DecodePriority.Batch;
    /// <summary>Who the tokens are for (a tenant or a run): the unit of fairness.</summary>
    public string Owner { get; init; } = "";
    public DecodeStream? Stream { get; init; }
    /// <summary>The caller going away: the call's rows leave before the next step.</summary>
    public CancellationToken Cancellation { get; init; }
    /// <summary>The caller's key for a prompt it extends again (a memory's answer prompt): the prefix
    /// the prompt shares with the prompt kept under it takes its KV from the worker's
    /// <see cref="Sampling.PrefixKvStore"/> and only the rest is prefilled (<see cref="CallUsage.ReusedPrefixTokens"/>).
    /// Honoured only where it is exact and simple: the base model, no adapter, no images, no prompt
    /// logprobs or routing, and the call prefilling alone; otherwise a plain prefill.</summary>
    public string? PrefixKey { get; init; }
    /// <summary>Keep this call's prompt KV (not the sampled tokens') under <see cref="PrefixKey"/>, replacing what was there.</summary>
    public bool KeepPrefix { get; init; }
    /// <summary>Tokens this call may still cost: prefill once, then every sample's maximum.</summary>
    public long TokenCost => Request.Prompt.Count + (long)Request.NumSamples * Request.Params.MaxTokens;
}

/// <summary>compute_logprobs: one full forward pass without cache (the learner's path).</summary>
public sealed class LogprobsCall(string requestId, IReadOnlyList<int> tokens) : WorkerCall(requestId)
{
    public IReadOnlyList<int> Tokens { get; } = tokens;
    /// <summary>Images over image pad tokens of <see cref="Tokens"/> (vision-language models).</summary>
    public IReadOnlyList<Models.Vision.PlacedImage> Images { get; init; } = [];
    public string? AdapterKey { get; init; }
    public string? ModelKey { get; init; }
    /// <summary>The caller's key for a sequence it extends again (a memory's id): the prefix these
    /// tokens share with the sequence kept under it is not prefilled again (<see cref="Sampling.PrefixKvStore"/>).
    /// Honoured on the base model without adapter or images; otherwise a plain pass.</summary>
    public string? PrefixKey { get; init; }
    /// <summary>Keep this call's sequence under <see cref="PrefixKey"/> for later calls.</summary>
    public bool KeepPrefix { get; init; }
    /// <summary>Other keys whose kept sequences may share a longer prefix (read, never written).</summary>
    public IReadOnlyList<string> ReuseAlsoFrom { get; init; } = [];
}
