using System.Diagnostics.Metrics;
using Whetstone.Service.Observability;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>A test hook on workers' /v1 pipelines, through the token-latency instruments they
/// record as they read each decoded token (before writing that token's chunk): once armed, the
/// first worker (of <paramref name="silos"/>, by the meter's silo tag) to read its
/// <c>at</c>-th token blocks there until <see cref="Release"/>, so its answer cannot finish
/// meanwhile. Blocks at most <see cref="MaxHold"/>, so a test that fails never hangs.</summary>
internal sealed class WorkerTokenHold : IDisposable
{
    public static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(180);

    readonly MeterListener _listener = new();
    readonly HashSet<string> _silos;
    readonly Dictionary<string, int> _tokens = [];
    readonly ManualResetEventSlim _release = new(false);
    readonly TaskCompletionSource<string> _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _at;
    bool _armed;

    public WorkerTokenHold(IEnumerable<string> silos)
    {
        _silos = [.. silos];
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == WhetstoneMeter.MeterName
                && instrument.Name is "whetstone.openai.time_to_first_token" or "whetstone.openai.inter_token_latency")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) => OnToken(tags));
        _listener.Start();
    }

    /// <summary>The silo tag of the worker that reached the token and is held there.</summary>
    public Task<string> Reached => _reached.Task;

    /// <summary>Holds the first worker to read its <paramref name="at"/>-th token from now on.</summary>
    public void Arm(int at)
    {
        lock (_tokens)
        {
            _tokens.Clear();
            _at = at;
            _armed = true;
        }
    }

    public void Release() => _release.Set();

    void OnToken(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? silo = null;
        foreach (var tag in tags) if (tag.Key == "silo") silo = tag.Value as string;
        if (silo is null || !_silos.Contains(silo)) return;
        lock (_tokens)
        {
            if (!_armed) return;
            int count = _tokens[silo] = _tokens.GetValueOrDefault(silo) + 1;
            if (count < _at) return;
            _armed = false;
        }
        _reached.TrySetResult(silo);
        _release.Wait(MaxHold);
    }

    public void Dispose()
    {
        _release.Set();
        _listener.Dispose();
    }
}
