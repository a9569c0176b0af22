using Whetstone.Engine.Models;

namespace Whetstone.Engine.Sampling;

/// <summary>The KV caches of sequences a caller will extend again, by the caller's key (a
/// memory's id): a later compute_logprobs call under the same key prefills only what follows the
/// longest prefix it shares with the kept sequence, and takes that prefix's keys, values and
/// logprobs from here. Exact, not approximate: in a causal model position t's keys, values and
/// logprob depend on tokens 0..t alone. Bounded by <see cref="MaxBytes"/>; the least recently
/// used entry goes first. Used on the worker's thread only (no locking).</summary>
public sealed class PrefixKvStore(long maxBytes) : IDisposable
{
    /// <summary>One kept sequence: its tokens, the logprob of each (first null; the whole array null
    /// for a decode prompt's entry, which computes none) and its KV cache (batch 1, at least
    /// <see cref="Tokens"/>' length).</summary>
    public sealed record Entry(int[] Tokens, float?[]? Logprobs, KvCache Cache)
    {
        public long Bytes => Cache.AllocatedBytesPerToken * Cache.Capacity;

        /// <summary>How many leading tokens <paramref name="tokens"/> shares with the kept sequence.</summary>
        public int SharedPrefix(IReadOnlyList<int> tokens)
        {
            int n = Math.Min(Tokens.Length, tokens.Count), i = 0;
            while (i < n && Tokens[i] == tokens[i]) i++;
            return i;
        }
    }

    readonly Dictionary<string, LinkedListNode<(string Key, Entry Entry)>> _byKey = new(StringComparer.Ordinal);
    readonly LinkedList<(string Key, Entry Entry)> _recency = new();   // most recently used first

    public long MaxBytes { get; } = maxBytes;
    public long Bytes { get; private set; }
    public int Count => _byKey.Count;
    /// <summary>Entries dropped to stay within <see cref="MaxBytes"/>.</summary>
    public long Evictions { get; private set; }

    /// <summary>The entry kept under <paramref name="key"/>, now the most recently used; null if none.</summary>
    public Entry? Get(string key)
    {
        if (!_byKey.TryGetValue(key, out var node)) return null;
        _recency.Remove(node);
        _recency.AddFirst(node);
        return node.Value.Entry;
    }

    /// <summary>Keeps <paramref name="entry"/> under <paramref name="key"/> (the store owns its cache
    /// from now on), replacing and disposing what was there, then evicts the least recently used
    /// entries until the store fits. An entry larger than the whole store is not kept.</summary>
    public void Put(string key, Entry entry)
    {
        Remove(key);
        if (entry.Bytes > MaxBytes)
        {
            entry.Cache.Dispose();
            Evictions++;
            return;
        }
        _byKey[key] = _recency.AddFirst((key, entry));
        Bytes += entry.Bytes;
        while (Bytes > MaxBytes && _recency.Last is { } oldest)
        {
            Remove(oldest.Value.Key);
            Evictions++;
        }
    }

    /// <summary>Drops the entry under <paramref name="key"/>, if any.</summary>
    public bool Remove(string key)
    {
        if (!_byKey.Remove(key, out var node)) return false;
        _recency.Remove(node);
        Bytes -= node.Value.Entry.Bytes;
        node.Value.Entry.Cache.Dispose();
        return true;
    }

    /// <summary>Drops the entry under <paramref name="key"/> and every entry under key/… (a memory's
    /// passes without one span each): what a deleted owner kept goes at once, not when the LRU
    /// bound reaches it. Returns how many entries went.</summary>
    public int RemoveUnder(string key)
    {
        var doomed = _byKey.Keys.Where(k => k == key || k.StartsWith(key + "/", StringComparison.Ordinal)).ToList();
        foreach (var k in doomed) Remove(k);
        return doomed.Count;
    }

    /// <summary>How many entries are kept under <paramref name="key"/> or key/… .</summary>
    public int CountUnder(string key) => _byKey.Keys.Count(k => k == key || k.StartsWith(key + "/", StringComparison.Ordinal));

    public void Dispose()
    {
        foreach (var (_, entry) in _recency) entry.Cache.Dispose();
        _recency.Clear();
        _byKey.Clear();
        Bytes = 0;
    }
}
