namespace Whetstone.Cookbook.Rl;

/// <summary>The newest sampler and its version (optimizer steps taken), shared between the
/// trainer, which publishes each new one, and the async sampling loop, which waits until a
/// version recent enough for the staleness bound exists. A superseded sampler is handed to
/// <paramref name="retire"/> (the recipe closes its session, which frees its weights on the
/// server) as soon as no batch still samples from it.</summary>
public sealed class SamplerVersions<TSampler>(TSampler first, int firstVersion, Func<TSampler, Task>? retire = null) where TSampler : class
{
    readonly object _gate = new();
    readonly Dictionary<TSampler, int> _holds = new(ReferenceEqualityComparer.Instance);
    (TSampler Sampler, int Version) _latest = (first, firstVersion);
    TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public (TSampler Sampler, int Version) Latest { get { lock (_gate) return _latest; } }

    /// <summary>Makes <paramref name="sampler"/> the newest; the task retires the one it replaces
    /// unless a batch still holds it (then <see cref="Release"/> does).</summary>
    public Task Publish(TSampler sampler, int version)
    {
        TaskCompletionSource changed;
        TSampler replaced;
        bool held;
        lock (_gate)
        {
            if (version <= _latest.Version) throw new ArgumentException($"version {version} is not newer than {_latest.Version}", nameof(version));
            replaced = _latest.Sampler;
            held = _holds.ContainsKey(replaced);
            _latest = (sampler, version);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.SetResult();
        return held || retire is null ? Task.CompletedTask : retire(replaced);
    }

    /// <summary>The newest sampler once its version is at least <paramref name="minimum"/>.</summary>
    public async Task<(TSampler Sampler, int Version)> AtLeastAsync(int minimum, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_latest.Version >= minimum) return _latest;
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>As <see cref="AtLeastAsync"/>, and the sampler is not retired before <see cref="Release"/>.</summary>
    public async Task<(TSampler Sampler, int Version)> AcquireAsync(int minimum, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_latest.Version >= minimum)
                {
                    _holds[_latest.Sampler] = _holds.GetValueOrDefault(_latest.Sampler) + 1;
                    return _latest;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Lets go of an acquired sampler; the task retires it if it was superseded meanwhile.</summary>
    public Task Release(TSampler sampler)
    {
        lock (_gate)
        {
            int holds = _holds[sampler] - 1;
            if (holds > 0) { _holds[sampler] = holds; return Task.CompletedTask; }
            _holds.Remove(sampler);
            if (ReferenceEquals(sampler, _latest.Sampler)) return Task.CompletedTask;
        }
        return retire is null ? Task.CompletedTask : retire(sampler);
    }
}
