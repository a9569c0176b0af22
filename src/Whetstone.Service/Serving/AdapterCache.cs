using Whetstone.Service.Runs;

namespace Whetstone.Service.Serving;

/// <summary>The LoRA adapters of sampler checkpoints that served requests name, loaded on first
/// use onto their base model's engine worker and kept under a memory budget: when a load would go over it, the
/// least recently used adapters that no request is decoding with are disposed (the one just
/// loaded stays even if it alone is over the budget). Keyed by the
/// checkpoint's path and creation time, so a checkpoint saved again under its name is loaded
/// afresh (a run keeps training while its sampler checkpoints are served).</summary>
internal sealed class AdapterCache(ServiceContext context, long budgetBytes)
{
    readonly object _lock = new();
    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    readonly Dictionary<string, Task<Entry>> _loading = new(StringComparer.Ordinal);
    long _clock;

    sealed class Entry(string key, string baseModel, long bytes)
    {
        public string Key { get; } = key;
        public string BaseModel { get; } = baseModel;
        public long Bytes { get; } = bytes;
        public int Users { get; set; }
        public long LastUsed { get; set; }
    }

    public long BudgetBytes => budgetBytes;

    /// <summary>Bytes held by loaded adapters.</summary>
    public long LoadedBytes { get { lock (_lock) return _entries.Values.Sum(e => e.Bytes); } }

    /// <summary>Paths (with creation time) of the adapters loaded now, for tests and metrics.</summary>
    public IReadOnlyList<string> Loaded { get { lock (_lock) return _entries.Keys.ToArray(); } }

    /// <summary>The adapter of a sampler checkpoint, loaded if needed, held until the lease is
    /// disposed (a held adapter is never evicted).</summary>
    public async Task<AdapterLease> AcquireAsync(string baseModel, string checkpointDirectory, string key)
    {
        bool missed = false;   // a request that waited for a load is a miss, counted once
        while (true)
        {
            Task<Entry> loading;
            lock (_lock)
            {
                if (_entries.TryGetValue(key, out var entry))
                {
                    if (!missed) context.Meter.AdapterHit(baseModel);
                    entry.Users++;
                    entry.LastUsed = ++_clock;
                    return new AdapterLease(entry.Key, () => Release(entry));
                }
                if (!_loading.TryGetValue(key, out loading!))
                    _loading[key] = loading = LoadAsync(baseModel, checkpointDirectory, key);
            }
            if (!missed) context.Meter.AdapterMiss(baseModel);
            missed = true;
            try { await loading; }
            finally { lock (_lock) _loading.Remove(key); }
        }
    }

    async Task<Entry> LoadAsync(string baseModel, string directory, string key)
    {
        // Loading and disposing adapters is tensor work: both happen on the model's engine worker,
        // which keys the adapter by the same key. Served adapters compute in the network's dtype.
        long bytes = await context.Host(baseModel).Worker.LoadAdapterAsync(key, directory, computeDtype: true);
        var entry = new Entry(key, baseModel, bytes);
        lock (_lock)
        {
            _entries[key] = entry;
            entry.LastUsed = ++_clock;
            EvictOverBudget(baseModel, key);
        }
        return entry;
    }

    // Under the lock: idle adapters of this base model, oldest use first (disposed at the worker's next cycle).
    void EvictOverBudget(string baseModel, string keep)
    {
        long total = _entries.Values.Sum(e => e.Bytes);
        foreach (var victim in _entries.Values.Where(e => e.Users == 0 && e.BaseModel == baseModel && e.Key != keep).OrderBy(e => e.LastUsed).ToList())
        {
            if (total <= budgetBytes) break;
            _entries.Remove(victim.Key);
            context.Host(baseModel).Worker.ReleaseAdapter(victim.Key);
            context.Meter.AdapterEvicted(baseModel);
            total -= victim.Bytes;
        }
    }

    void Release(Entry entry)
    {
        lock (_lock)
        {
            entry.Users--;
            entry.LastUsed = ++_clock;
        }
    }
}

/// <summary>A held adapter; dispose when the request no longer decodes with it.</summary>
internal sealed class AdapterLease(string key, Action release) : IDisposable
{
    int _released;
    /// <summary>The adapter's key on its base model's engine worker.</summary>
    public string Key { get; } = key;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) release();
    }
}
