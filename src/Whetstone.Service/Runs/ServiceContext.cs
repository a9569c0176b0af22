using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Whetstone.Engine.Worker;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Runs;

/// <summary>What the run, sampling and checkpoint services share: the base models, their
/// planners and engine workers, the futures, the metadata store and the data directory. Also where each finished
/// call is accounted and its request record completed.</summary>
internal sealed class ServiceContext(BaseModelRegistry models, IMetadataStore store, string dataDirectory, int queueCapacity, ILogger logger,
    SchedulingOptions? scheduling = null) : IDisposable
{
    readonly ConcurrentDictionary<string, Lazy<BaseModelHost>> _hosts = new();
    readonly ConcurrentDictionary<string, (Caller Caller, string? RunId)> _owners = new();

    public BaseModelRegistry Models { get; } = models;
    public IMetadataStore Store { get; } = store;
    public string DataDirectory { get; } = dataDirectory;
    public RequestFutures Futures { get; } = new();
    public ILogger Logger { get; } = logger;
    public SchedulingOptions Scheduling { get; } = scheduling ?? new();
    /// <summary>The instruments /metrics reports (Observability/).</summary>
    public Observability.WhetstoneMeter Meter { get; } = new();

    /// <summary>The planner and engine worker of a served base model, started (and the model
    /// loaded) on first use. Lazy: GetOrAdd may run its factory twice under contention, and a
    /// worker owns a thread.</summary>
    public BaseModelHost Host(string baseModel) => _hosts.GetOrAdd(baseModel, name => new Lazy<BaseModelHost>(() =>
    {
        var planner = new CyclePlanner(name, queueCapacity, Scheduling);
        var worker = new EngineWorker(name, Models.Directory(name), Models.Dtype, planner, Models.Device)
        {
            Completed = item =>
            {
                Meter.CallCompleted(name, item.Usage);
                OnCompleted(item);
            },
            CycleFailed = e => Logger.LogError(e, "scheduler cycle of {Model}", name),
        };
        planner.WorkArrived = worker.Wake;
        planner.CycleFinished = cycle => Meter.CycleFinished(name, cycle);
        Meter.Track(planner);
        return new BaseModelHost(planner, worker);
    })).Value;

    /// <summary>The base model's host if it is already started; null otherwise (nothing is loaded to ask).</summary>
    public BaseModelHost? StartedHost(string baseModel) => _hosts.TryGetValue(baseModel, out var host) && host.IsValueCreated ? host.Value : null;

    IEnumerable<BaseModelHost> Hosts => _hosts.Values.Where(l => l.IsValueCreated).Select(l => l.Value);

    /// <summary>Queues a call for the caller and returns its request id; the result, once done, is
    /// converted by <paramref name="toProtocol"/>. <paramref name="afterAsync"/> runs off the
    /// worker's thread once the work is done (metadata writes), and the future completes after it.</summary>
    public async Task<string> SubmitAsync(BaseModelHost host, WorkerCall call, Caller caller, string? runId, string kind,
        Func<object, object> toProtocol, Func<object, Task>? afterAsync = null)
    {
        _owners[call.RequestId] = (caller, runId);
        await Store.InsertRequestAsync(new RequestRecord(call.RequestId, caller.Tenant, runId, kind, "pending", DateTimeOffset.UtcNow));
        try
        {
            host.Planner.Enqueue(call);
        }
        catch (ApiError error)
        {
            _owners.TryRemove(call.RequestId, out _);
            await Store.CompleteRequestAsync(call.RequestId, "failed", error.Message, DateTimeOffset.UtcNow);
            throw;
        }
        var done = afterAsync is null ? call.Completion.Task : ThenAsync(call.Completion.Task, afterAsync);
        Futures.Track(call.RequestId, done, caller.Tenant, toProtocol);
        return call.RequestId;
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

    public Protocol.SchedulerMetrics Metrics() => new(Hosts.Select(h => h.Planner).Select(s =>
    {
        var cycles = s.RecentCycles;
        double window = cycles.Count == 0 ? 0 : (DateTimeOffset.UtcNow - cycles[0].StartedAt).TotalSeconds;
        double utilisation = window > 0 ? Math.Min(1, cycles.Sum(c => c.Seconds) / window) : 0;
        return new Protocol.BaseModelMetrics(s.ModelName, s.QueueDepth, utilisation,
            cycles.Select(c => new Protocol.CycleInfo(c.StartedAt, c.Seconds, c.Runs, c.LearnerCalls, c.TrainedTokens,
                c.OptimSteps, c.SampleCalls, c.SampledTokens, c.QueueDepthAfter)).ToArray());
    }).ToArray());

    void OnCompleted(WorkerCall item)
    {
        if (!_owners.TryRemove(item.RequestId, out var owner)) return;
        var failure = item.Completion.Task.Exception?.InnerException;
        var usage = new UsageTotals
        {
            PrefillTokens = item.Usage.PrefillTokens, SampledTokens = item.Usage.SampledTokens,
            TrainedTokens = item.Usage.TrainedTokens, ComputeSeconds = item.Usage.ComputeSeconds,
        };
        _ = Task.Run(async () =>
        {
            try
            {
                await Store.CompleteRequestAsync(item.RequestId, failure is null ? "done" : "failed", failure?.Message, DateTimeOffset.UtcNow);
                await Store.AddUsageAsync(owner.Caller.ApiKeyId, owner.RunId, usage);
            }
            catch (Exception e)
            {
                Logger.LogError(e, "recording request {RequestId}", item.RequestId);
            }
        });
    }

    public void Dispose()
    {
        foreach (var h in Hosts) h.Dispose();
        Meter.Dispose();
    }
}
