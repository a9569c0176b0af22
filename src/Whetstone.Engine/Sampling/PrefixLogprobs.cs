using Whetstone.Engine.Models;
using static TorchSharp.torch;

namespace Whetstone.Engine.Sampling;

/// <summary>compute_logprobs that reuses a kept prefix (<see cref="PrefixKvStore"/>): the
/// sequence's first r tokens take their KV and logprobs from the entry under the key, where r is
/// one less than the prefix it shares with the entry's tokens (the last shared position is run
/// again: its logits must predict this sequence's next token, not the entry's), and only the
/// other T − r tokens are prefilled through the cached forward path.</summary>
public sealed record PrefixLogprobs(IReadOnlyList<float?> Logprobs, int ReusedTokens)
{
    public int PrefilledTokens(int total) => total - ReusedTokens;

    internal static PrefixLogprobs Compute(CausalLanguageModel network, IReadOnlyList<int> tokens, PrefixKvStore store, string key, bool keep,
        IReadOnlyList<string>? alsoFrom = null)
    {
        int length = tokens.Count;
        // The kept sequence, of those under the key and the other candidates, that shares the longest prefix.
        PrefixKvStore.Entry? entry = null;
        int shared = 0;
        foreach (var candidate in (string[])[key, .. alsoFrom ?? []])
            if (store.Get(candidate) is { Logprobs: not null } kept && kept.SharedPrefix(tokens) is var n && n > shared)
                (entry, shared) = (kept, n);
        int reused = Math.Max(0, shared - 1);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var cache = entry is not null && reused > 0 ? entry.Cache.Prefix(reused, length) : network.CreateCache(1, length);
        try
        {
            var suffix = tokens.Skip(reused).ToArray();
            var input = tensor(suffix.Select(t => (long)t).ToArray(), device: network.Device).unsqueeze(0);
            var positions = arange(reused, length, dtype: ScalarType.Int64, device: network.Device).unsqueeze(0);
            var hidden = network.Forward(input, positions, cache, maxPosition: length - 1);
            var (suffixLogprobs, _) = PromptLogprobs.From(network.Logits(hidden)[0], suffix, 0);

            var logprobs = new float?[length];
            for (int t = 1; t <= reused; t++) logprobs[t] = entry!.Logprobs![t];
            for (int j = 1; j < suffix.Length; j++) logprobs[reused + j] = suffixLogprobs[j];

            if (keep) store.Put(key, new PrefixKvStore.Entry([.. tokens], logprobs, cache));
            else cache.Dispose();
            return new PrefixLogprobs(logprobs, reused);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }
}
