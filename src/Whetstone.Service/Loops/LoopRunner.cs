using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Loops;

/// <summary>The service's background job for loops: every tick it reads the loops from the store
/// and advances each one that is not already being advanced (one job per loop at a time; loops of
/// different deployments run side by side). Everything it needs to resume is in the store, so
/// stopping it at any point and starting a new server on the same data carries on.</summary>
internal sealed class LoopRunner(ServiceContext context, LoopIterationJob job, TimeSpan tick) : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentDictionary<string, Task> _running = new();
    Task? _ticker;

    public void Start() => _ticker = RunAsync();

    async Task RunAsync()
    {
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try { await TickAsync(); }
                catch (Exception e) when (!_stop.IsCancellationRequested) { context.Logger.LogError(e, "loop tick"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    async Task TickAsync()
    {
        foreach (var loop in await context.Store.ListLoopsAsync(null, _stop.Token))
        {
            if (loop.Status != "active" && loop.State == "idle") continue;
            if (_running.ContainsKey(loop.Id)) continue;
            var task = Task.Run(async () =>
            {
                try { await job.AdvanceAsync(loop, _stop.Token); }
                catch (Exception e) when (!_stop.IsCancellationRequested) { context.Logger.LogError(e, "loop {Loop}", loop.Id); }
                catch (OperationCanceledException) { }
                catch (Exception) { }   // stopping: whatever was interrupted is redone from the store on the next start
            });
            _running[loop.Id] = task;
            _ = task.ContinueWith(_ => _running.TryRemove(loop.Id, out Task? _), TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_ticker is not null) await _ticker;
        await Task.WhenAll(_running.Values);
    }
}
