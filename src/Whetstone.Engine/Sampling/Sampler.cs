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

        // Prefill every prompt once: [P, Tmax], right-padded (pads sit after all real queries,
        // so the causal mask hides them; their cache entries are overwritten later).
        int promptCount = requests.Count;
        int longest = requests.Max(r => r.Prompt.Count);
        int capacity = requests.Max(r => r.Prompt.Count + r.Params.MaxTokens);
        var padded = new long[promptCount * longest];
        for (int p = 0; p < promptCount; p++)
            for (int t = 0; t < requests[p].Prompt.Count; t++) padded[p * longest + t] = requests[p].Prompt[t];
        var tokens = tensor(padded, [promptCount, longest]);
        var positions = arange(longest, dtype: ScalarType.Int64).unsqueeze(0).expand(promptCount, -1);
        using var promptCache = network.CreateCache(promptCount, capacity);
        var promptAdapters = AdapterBatch.For(requests.Select(r => r.Adapter).ToArray());
        var hidden = network.Forward(tokens, positions, promptCache, promptAdapters);       // [P, T, h]
        var lastIndex = tensor(requests.Select(r => (long)r.Prompt.Count - 1).ToArray());
        var lastHidden = hidden[arange(promptCount, dtype: ScalarType.Int64), lastIndex];  // [P, h]
        var logits = network.Logits(lastHidden, promptAdapters);                            // [P, V]

        var sequences = new List<SequenceState>();
        for (int p = 0; p < promptCount; p++)
        {
            var r = requests[p];
            int seed = r.Params.Seed ?? Random.Shared.Next();
            for (int s = 0; s < r.NumSamples; s++)
                sequences.Add(new SequenceState(p, r.Prompt.Count, r.Params, SampleSeed(seed, s),
                    tokenizer.CreateStreamingDecoder(), r.Params.IgnoreEos ? [] : tokenizer.EosTokenIds));
        }
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

        var results = new SampleResult[promptCount];
        for (int p = 0; p < promptCount; p++)
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

    // Sample i of a request draws from its own stream, derived from the request's seed with a
    // fixed mix (HashCode.Combine is randomised per process, so it cannot be used here).
    internal static int SampleSeed(int seed, int sample) => unchecked(seed * 1_000_003 + sample * 7_919);

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
