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
    public const int MaxSamplesPerRequest = 256;

    public SampleResult Sample(SampleRequest request) => SampleBatch([request])[0];

    public IReadOnlyList<SampleResult> SampleBatch(IReadOnlyList<SampleRequest> requests)
    {
        if (requests.Count == 0) return [];
        foreach (var r in requests) Validate(r);
        using var scope = NewDisposeScope();
        using var _ = no_grad();

        var (prompts, hidden, logits) = PromptPrefill.Run(network, requests);
        using var promptCache = prompts;
        var sequences = PromptPrefill.Sequences(tokenizer, requests).Select(x => x.State).ToList();
        var rowSource = sequences.Select(s => (long)s.RequestIndex).ToArray();
        var cache = promptCache.SelectRows(rowSource);
        try
        {
            logits = logits.index_select(0, tensor(rowSource));
            var active = sequences;
            while (true)
            {
                var (chosen, chosenLogprobs) = TokenChooser.Choose(logits, active);
                for (int i = 0; i < active.Count; i++) active[i].Append((int)chosen[i], chosenLogprobs[i]);
                var stillActive = active.Where(s => !s.Finished).ToList();
                if (stillActive.Count == 0) break;
                if (stillActive.Count < active.Count)
                {
                    var keep = active.Select((s, i) => (s, i)).Where(x => !x.s.Finished).Select(x => (long)x.i).ToArray();
                    var smaller = cache.SelectRows(keep);
                    cache.Dispose();
                    cache = smaller;
                    active = stillActive;
                }
                using var stepScope = NewDisposeScope();
                var stepTokens = tensor(active.Select(s => (long)s.Tokens[^1]).ToArray()).unsqueeze(1);      // [A, 1]
                var stepPositions = tensor(active.Select(s => (long)s.NextPosition - 1).ToArray()).unsqueeze(1);
                var previous = logits;
                var stepAdapters = AdapterBatch.For(active.Select(s => requests[s.RequestIndex].Adapter).ToArray());
                logits = network.Logits(network.Forward(stepTokens, stepPositions, cache, stepAdapters), stepAdapters).squeeze(1).MoveToOuterDisposeScope();
                previous.Dispose();
            }
        }
        finally
        {
            cache.Dispose();
        }

        var results = new SampleResult[requests.Count];
        for (int p = 0; p < requests.Count; p++)
        {
            var r = requests[p];
            var samples = sequences.Where(s => s.RequestIndex == p).Select(s => s.ToResult()).ToArray();
            IReadOnlyList<float?>? promptLogprobs = null;
            IReadOnlyList<IReadOnlyList<TokenLogprob>?>? topk = null;
            if (r.IncludePromptLogprobs || r.TopkPromptLogprobs > 0)
            {
                var promptLogits = network.Logits(hidden[TensorIndex.Slice(p, p + 1), TensorIndex.Slice(0, r.Prompt.Count)],
                    AdapterBatch.For([r.Adapter]))[0];                                                   // [T, V]
                (promptLogprobs, topk) = PromptLogprobs.From(promptLogits, r.Prompt, r.TopkPromptLogprobs);
                if (!r.IncludePromptLogprobs) promptLogprobs = null;
            }
            results[p] = new SampleResult(samples) { PromptLogprobs = promptLogprobs, TopkPromptLogprobs = topk };
        }
        return results;
    }

    /// <summary>log p(tokens[t] | tokens[..t]) for every token (first null), computed by a full
    /// forward pass without cache — the learner's path.</summary>
    public IReadOnlyList<float?> ComputeLogprobs(IReadOnlyList<int> tokens, LoraAdapter? adapter = null)
    {
        if (tokens.Count == 0) throw new SamplingArgumentException("tokens", "must not be empty");
        CheckTokens("tokens", tokens);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0);
        var adapters = AdapterBatch.For([adapter]);
        var logits = network.Logits(network.Forward(input, adapters: adapters), adapters)[0];
        return PromptLogprobs.From(logits, tokens, 0).Logprobs;
    }

    /// <summary>Throws <see cref="SamplingArgumentException"/> naming the field if the request cannot run.</summary>
    public void Validate(SampleRequest r)
    {
        if (r.Prompt.Count == 0) throw new SamplingArgumentException("prompt", "must have at least one token");
        if (r.NumSamples < 1 || r.NumSamples > MaxSamplesPerRequest)
            throw new SamplingArgumentException("num_samples", $"= {r.NumSamples} must be between 1 and {MaxSamplesPerRequest}");
        if (r.TopkPromptLogprobs < 0) throw new SamplingArgumentException("topk_prompt_logprobs", $"= {r.TopkPromptLogprobs} must be ≥ 0");
        CheckTokens("prompt", r.Prompt);
        r.Params.Validate(network.Config.VocabSize);
        int limit = network.Config.MaxPositionEmbeddings;
        if (r.Prompt.Count + r.Params.MaxTokens > limit)
            throw new SamplingArgumentException("max_tokens", $"= {r.Params.MaxTokens} with a {r.Prompt.Count}-token prompt exceeds the model's context of {limit} tokens");
    }

    public void CheckTokens(string field, IReadOnlyList<int> tokens)
    {
        int vocab = network.Config.VocabSize;
        for (int i = 0; i < tokens.Count; i++)
            if (tokens[i] < 0 || tokens[i] >= vocab)
                throw new SamplingArgumentException(field, $"[{i}] = {tokens[i]} is outside the vocabulary [0, {vocab})");
    }
}
