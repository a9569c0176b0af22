namespace Whetstone.Engine.Worker;

// The kept prefixes (PrefixKvStore) live on the worker's thread; their owner (a memory) drops them here.
public sealed partial class EngineWorker
{
    /// <summary>Drops the KV kept under <paramref name="key"/> and key/… (a deleted memory's scoring
    /// passes) now, rather than leaving it to the LRU bound. Returns how many entries went.</summary>
    public Task<int> DropPrefixesAsync(string key) => OnThreadAsync(() => _prefixes.RemoveUnder(key));

    /// <summary>How many KV entries are kept under <paramref name="key"/> or key/… .</summary>
    public Task<int> CountPrefixesAsync(string key) => OnThreadAsync(() => _prefixes.CountUnder(key));
}
