using System.Net;

namespace Whetstone.Service.Runs;

/// <summary>The whole models that sampling sessions sample from. A full fine-tuning run's sampler
/// checkpoint is a complete network, so it is loaded into its own instance of the base
/// architecture, in the server's compute dtype, by the base model's engine worker (where its
/// tensor work then runs too, with a decode loop of its own). One instance per checkpoint (path and creation time: a name saved
/// again is a new model), shared by every session and queued call on it, and disposed on that
/// worker once the last of them lets go. Each instance costs a whole model's memory, so at most
/// <see cref="MaxLoadedPerBaseModel"/> are held per base model; past that a new session is refused
/// until one is closed.</summary>
internal sealed class FullModelSamplers(ServiceContext context)
{
    /// <summary>Enough for an RL loop (the current sampler and the one before it, in use by a
    /// batch still sampling) plus an eval; small against the memory a whole model takes.</summary>
    public const int MaxLoadedPerBaseModel = 4;

    readonly object _lock = new();
    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    readonly Dictionary<string, (string BaseModel, Task<Entry> Task)> _loading = new(StringComparer.Ordinal);

    internal sealed class Entry(string key, string baseModel)
    {
        public string Key { get; } = key;
        public string BaseModel { get; } = baseModel;
        public int Holders { get; set; }
    }

    /// <summary>Checkpoint keys of the models loaded now (for tests and metrics).</summary>
    public IReadOnlyList<string> Loaded { get { lock (_lock) return _entries.Keys.ToArray(); } }

    /// <summary>The model saved in <paramref name="directory"/>, loaded if needed, held until the
    /// lease is disposed. <paramref name="field"/> names the request field in a refusal.</summary>
    public async Task<FullModelLease> AcquireAsync(string baseModel, string directory, string key, string field = "model_path")
    {
        while (true)
        {
            Task<Entry> loading;
            lock (_lock)
            {
                if (_entries.TryGetValue(key, out var entry))
                {
                    entry.Holders++;
                    return new FullModelLease(this, entry);
                }
                if (_loading.TryGetValue(key, out var pending)) loading = pending.Task;
                else
                {
                    int held = _entries.Values.Count(e => e.BaseModel == baseModel) + _loading.Values.Count(l => l.BaseModel == baseModel);
                    if (held >= MaxLoadedPerBaseModel)
                        throw new ApiError(HttpStatusCode.Conflict, "too_many_models",
                            $"{field}: {held} full models of '{baseModel}' are loaded for sampling sessions and served requests (at most {MaxLoadedPerBaseModel}); close a sampling session on one of them first",
                            field);
                    loading = LoadAsync(baseModel, directory, key);
                    _loading[key] = (baseModel, loading);
                }
            }
            try { await loading; }
            finally { lock (_lock) _loading.Remove(key); }
        }
    }

    async Task<Entry> LoadAsync(string baseModel, string directory, string key)
    {
        await context.Host(baseModel).Worker.LoadFullModelAsync(key, directory);
        var entry = new Entry(key, baseModel);
        lock (_lock) _entries[key] = entry;
        return entry;
    }

    /// <summary>One more holder of a model someone already holds; null once it was released.</summary>
    internal FullModelLease? Share(Entry entry)
    {
        lock (_lock)
        {
            if (entry.Holders == 0) return null;
            entry.Holders++;
            return new FullModelLease(this, entry);
        }
    }

    internal void Release(Entry entry)
    {
        lock (_lock)
        {
            if (--entry.Holders > 0) return;
            _entries.Remove(entry.Key);
        }
        // Nothing holds it, so no queued call samples from it: the worker disposes it at its next cycle.
        context.Host(entry.BaseModel).Worker.ReleaseFullModel(entry.Key);
    }
}

/// <summary>A held full model: a sampling session holds one for its lifetime, and every call it
/// queues holds another until the call completes.</summary>
internal sealed class FullModelLease(FullModelSamplers owner, FullModelSamplers.Entry entry) : IDisposable
{
    int _released;

    /// <summary>The model's key on its base model's engine worker.</summary>
    public string Key => entry.Key;

    /// <summary>Another lease on the same model, or null if this one's model was already released.</summary>
    public FullModelLease? Share() => owner.Share(entry);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) owner.Release(entry);
    }
}
