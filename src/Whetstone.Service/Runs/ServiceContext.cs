using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Runs;

/// <summary>What the run, sampling and checkpoint services share: the base models, their
/// schedulers, the futures, the metadata store and the data directory. Also where each finished
/// call is accounted and its request record completed.</summary>
internal sealed class ServiceContext(BaseModelRegistry models, IMetadataStore store, string dataDirectory, int queueCapacity, ILogger logger)
    : IDisposable
{
    readonly ConcurrentDictionary<string, Lazy<ClockCycleScheduler>> _schedulers = new();
    readonly ConcurrentDictionary<string, (Caller Caller, string? RunId)> _owners = new();

    public BaseModelRegistry Models { get; } = models;
    public IMetadataStore Store { get; } = store;
    public string DataDirectory { get; } = dataDirectory;
    public RequestFutures Futures { get; } = new();
    public ILogger Logger { get; } = logger;

    // Lazy: GetOrAdd may run its factory twice under contention, and a scheduler owns a thread.
    public ClockCycleScheduler Scheduler(string baseModel) => _schedulers.GetOrAdd(baseModel, name =>
        new Lazy<ClockCycleScheduler>(() => new ClockCycleScheduler(name, Models.Get(name), queueCapacity)
        {
            Completed = OnCompleted,
            CycleFailed = e => Logger.LogError(e, "scheduler cycle of {Model}", name),
        })).Value;

    IEnumerable<ClockCycleScheduler> Schedulers => _schedulers.Values.Where(l => l.IsValueCreated).Select(l => l.Value);

    /// <summary>Queues a call for the caller and returns its request id; the result, once done, is
    /// converted by <paramref name="toProtocol"/>. <paramref name="afterAsync"/> runs off the
    /// scheduler thread once the work is done (metadata writes), and the future completes after it.</summary>
    public async Task<string> SubmitAsync(ClockCycleScheduler scheduler, WorkItem item, Caller caller, string? runId, string kind,
        Func<object, object> toProtocol, Func<object, Task>? afterAsync = null)
    {
        _owners[item.RequestId] = (caller, runId);
        await Store.InsertRequestAsync(new RequestRecord(item.RequestId, caller.Tenant, runId, kind, "pending", DateTimeOffset.UtcNow));
        try
        {
            scheduler.Enqueue(item);
        }
        catch (ApiError error)
        {
            _owners.TryRemove(item.RequestId, out _);
            await Store.CompleteRequestAsync(item.RequestId, "failed", error.Message, DateTimeOffset.UtcNow);
            throw;
        }
        var done = afterAsync is null ? item.Completion.Task : ThenAsync(item.Completion.Task, afterAsync);
        Futures.Track(item.RequestId, done, caller.Tenant, toProtocol);
        return item.RequestId;
    }

    static async Task<object> ThenAsync(Task<object> work, Func<object, Task> afterAsync)
    {
        var result = await work;
        await afterAsync(result);
        return result;
    }

    /// <summary>A metadata write nobody waits for; failures are logged, never surfaced.</summary>
    public void InBackground(Func<Task> write, string what) => _ = Task.Run(async () =>
    {
        try { await write(); }
        catch (Exception e) { Logger.LogError(e, "{What}", what); }
    });

    /// <summary>Runs tensor work on the model's worker thread and waits for it.</summary>
    public async Task<T> OnWorkerAsync<T>(ClockCycleScheduler scheduler, Func<T> action) where T : notnull
    {
        var item = new WorkerTaskItem(RequestFutures.NewRequestId(), () => action());
        scheduler.Enqueue(item);
        return (T)await item.Completion.Task;
    }

    public Protocol.SchedulerMetrics Metrics() => new(Schedulers.Select(s =>
    {
        var cycles = s.RecentCycles;
        double window = cycles.Count == 0 ? 0 : (DateTimeOffset.UtcNow - cycles[0].StartedAt).TotalSeconds;
        double utilisation = window > 0 ? Math.Min(1, cycles.Sum(c => c.Seconds) / window) : 0;
        return new Protocol.BaseModelMetrics(s.ModelName, s.QueueDepth, utilisation,
            cycles.Select(c => new Protocol.CycleInfo(c.StartedAt, c.Seconds, c.Runs, c.LearnerCalls, c.TrainedTokens,
                c.OptimSteps, c.SampleCalls, c.SampledTokens, c.QueueDepthAfter)).ToArray());
    }).ToArray());

    void OnCompleted(WorkItem item)
    {
        if (item is WorkerTaskItem || !_owners.TryRemove(item.RequestId, out var owner)) return;
        var failure = item.Completion.Task.Exception?.InnerException;
        _ = Task.Run(async () =>
        {
            try
            {
                await Store.CompleteRequestAsync(item.RequestId, failure is null ? "done" : "failed", failure?.Message, DateTimeOffset.UtcNow);
                await Store.AddUsageAsync(owner.Caller.ApiKeyId, owner.RunId, item.Usage);
            }
            catch (Exception e)
            {
                Logger.LogError(e, "recording request {RequestId}", item.RequestId);
            }
        });
    }

    public void Dispose()
    {
        foreach (var s in Schedulers) s.Dispose();
    }
}
