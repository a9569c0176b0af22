using Whetstone.Client;

namespace Whetstone.Cookbook.Rl;

/// <summary>The newest sampler and its version (optimizer steps taken), shared between the
/// trainer, which publishes each new one, and the async sampling loop, which waits until a
/// version recent enough for the staleness bound exists.</summary>
public sealed class SamplerVersions(SamplingClient first, int firstVersion)
{
    readonly object _gate = new();
    (SamplingClient Sampler, int Version) _latest = (first, firstVersion);
    TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public (SamplingClient Sampler, int Version) Latest { get { lock (_gate) return _latest; } }

    public void Publish(SamplingClient sampler, int version)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (version <= _latest.Version) throw new ArgumentException($"version {version} is not newer than {_latest.Version}", nameof(version));
            _latest = (sampler, version);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.SetResult();
    }

    /// <summary>The newest sampler once its version is at least <paramref name="minimum"/>.</summary>
    public async Task<(SamplingClient Sampler, int Version)> AtLeastAsync(int minimum, CancellationToken cancellationToken = default)
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
}
