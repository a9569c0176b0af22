using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Tokenization;
using static TorchSharp.torch;

namespace Whetstone.Engine.Sampling;

/// <summary>Autoregressive sampling with a preallocated KV cache. A batch of requests is
/// prefilled together (right-padded), each prompt once however many samples it asks for; the
/// samples then decode together one token per step, and finished sequences leave the batch.</summary>
public sealed class Sampler(CausalLanguageModel network, HuggingFaceTokenizer tokenizer)
{
    /// <summary>One request's samples share one decode batch; past this, ask again.</summary>
    public const int MaxSamplesPerRequest = SampleValidation.MaxSamplesPerRequest;

    public SampleResult Sample(SampleRequest request) => SampleBatch([request])[0];

    /// <summary>Every request to its end in one <see cref="DecodeBatch"/>: the same decode loop
    /// the engine worker runs, stepped until its rows are done.</summary>
    public IReadOnlyList<SampleResult> SampleBatch(IReadOnlyList<SampleRequest> requests)
    {
        if (requests.Count == 0) return [];
        foreach (var r in requests) Validate(r);
        using var batch = new DecodeBatch(network, tokenizer);
        var rows = batch.Join(requests);
        while (batch.Count > 0) batch.Step();
        // Rows come in request then sample order.
        var results = new SampleResult[requests.Count];
        for (int p = 0, first = 0; p < requests.Count; first += requests[p].NumSamples, p++)
            results[p] = DecodeRow.Result(rows.Skip(first).Take(requests[p].NumSamples).ToArray());
        return results;
    }

    /// <summary>log p(tokens[t] | tokens[..t]) for every token (first null), computed by a full
    /// forward pass without cache — the learner's path.</summary>
    public IReadOnlyList<float?> ComputeLogprobs(IReadOnlyList<int> tokens, LoraAdapter? adapter = null,
        IReadOnlyList<Models.Vision.PlacedImage>? images = null)
    {
        if (tokens.Count == 0) throw new SamplingArgumentException("tokens", "must not be empty");
        CheckTokens("tokens", tokens);
        if (images is not null && Models.Vision.PlacedImageCheck.Problem(network.Config, tokens, images) is { } problem)
            throw new SamplingArgumentException("tokens" + problem.Field, problem.Message);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(tokens.Select(t => (long)t).ToArray(), device: network.Device).unsqueeze(0);
        var adapters = AdapterBatch.For([adapter]);
        var hidden = images is { Count: > 0 } ? network.ForwardWithImages(input, [images], adapters) : network.Forward(input, adapters: adapters);
        var logits = network.Logits(hidden, adapters)[0];
        return PromptLogprobs.From(logits, tokens, 0).Logprobs;
    }

    /// <summary>The same logprobs (to float tolerance: a cached forward instead of the full one),
    /// prefilling only what follows the prefix <paramref name="tokens"/> share with the sequence kept
    /// under <paramref name="prefixKey"/>; with <paramref name="keepPrefix"/> this sequence is kept
    /// there next; the sequences kept under <paramref name="alsoFrom"/> are candidates too (the
    /// longest shared prefix wins). Base weights only: an adapter's weights can change under its key.</summary>
    public PrefixLogprobs ComputeLogprobs(IReadOnlyList<int> tokens, PrefixKvStore prefixes, string prefixKey, bool keepPrefix, IReadOnlyList<string>? alsoFrom = null)
    {
        if (tokens.Count == 0) throw new SamplingArgumentException("tokens", "must not be empty");
        CheckTokens("tokens", tokens);
        return PrefixLogprobs.Compute(network, tokens, prefixes, prefixKey, keepPrefix, alsoFrom);
    }

    /// <summary>Throws <see cref="SamplingArgumentException"/> naming the field if the request cannot run.</summary>
    public void Validate(SampleRequest r) => SampleValidation.Check(network.Config, r);

    public void CheckTokens(string field, IReadOnlyList<int> tokens) => SampleValidation.CheckTokens(network.Config, field, tokens);
}
