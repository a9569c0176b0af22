using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Sampling;

/// <summary>A decode request's prefill that reuses a kept prefix (<see cref="PrefixKvStore"/>): the
/// prompt's first r tokens take their keys and values from the entry under the key, and only the
/// other T − r run through the model, at positions r..T−1. Exact: in a causal model position t's
/// keys and values depend on tokens 0..t alone. r is the prefix the prompt shares with the kept
/// tokens, less one when the whole prompt is shared (the last token must run: its logits give the
/// first sampled token). Only for a request <see cref="Eligible"/> allows.</summary>
internal static class PrefixPrefill
{
    /// <summary>What the plain batched prefill gives and this one does not: an adapter, images, prompt
    /// logprobs and routing traces (they need every prompt position's hidden state or a base-model KV).</summary>
    public static bool Eligible(SampleRequest r) =>
        r.Adapter is null && r.Images.Count == 0 && !r.IncludePromptLogprobs && r.TopkPromptLogprobs == 0 && !r.IncludeRouting;

    /// <summary>The prompt's cache (batch 1, room for the prompt plus max_tokens; the caller disposes
    /// it), the logits at its last token [1, V] in the caller's dispose scope, and how many tokens
    /// came from the store.</summary>
    public static (KvCache Cache, Tensor LastLogits, int Reused) Run(CausalLanguageModel network, SampleRequest request, PrefixKvStore store, string key)
    {
        var prompt = request.Prompt;
        int length = prompt.Count, capacity = length + request.Params.MaxTokens;
        var entry = store.Get(key);
        int reused = entry is null ? 0 : Math.Min(entry.SharedPrefix(prompt), length - 1);
        var cache = reused > 0 ? entry!.Cache.Prefix(reused, capacity) : network.CreateCache(1, capacity);
        try
        {
            var suffix = prompt.Skip(reused).Select(t => (long)t).ToArray();
            var input = tensor(suffix, device: network.Device).unsqueeze(0);
            var positions = arange(reused, length, dtype: ScalarType.Int64, device: network.Device).unsqueeze(0);
            var hidden = network.Forward(input, positions, cache, maxPosition: length - 1);   // [1, T − r, h]
            return (cache, network.Logits(hidden[TensorIndex.Colon, -1]), reused);            // [1, V]
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>Keeps the prompt's KV (its tokens only, not what is sampled after them) under the key,
    /// in a cache sized to the prompt.</summary>
    public static void Keep(PrefixKvStore store, string key, IReadOnlyList<int> prompt, KvCache promptCache) =>
        store.Put(key, new PrefixKvStore.Entry([.. prompt], null, promptCache.Prefix(prompt.Count, prompt.Count)));
}
