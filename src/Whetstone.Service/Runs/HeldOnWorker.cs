namespace Whetstone.Service.Runs;

/// <summary>Something an engine worker holds under <see cref="Key"/> for the service (a sampling
/// session's adapter): released on the worker once its last holder lets go — the session, and
/// every call it queued, each hold it until they are done.</summary>
internal sealed class HeldOnWorker(string key, Action release)
{
    readonly object _lock = new();
    int _holders;
    bool _released;

    public string Key { get; } = key;

    /// <summary>One more holder; null once it was released.</summary>
    public IDisposable? Hold()
    {
        lock (_lock)
        {
            if (_released) return null;
            _holders++;
        }
        return new Lease(this);
    }

    void LetGo()
    {
        lock (_lock)
        {
            if (--_holders > 0) return;
            _released = true;
        }
        release();
    }

    sealed class Lease(HeldOnWorker owner) : IDisposable
    {
        int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) owner.LetGo();
        }
    }
}
