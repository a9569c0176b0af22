using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using Whetstone.Engine.Worker;
using Whetstone.Protocol;
using Whetstone.Service.Auth;

namespace Whetstone.Service.Scheduling;

/// <summary>Every submitted call's future, by request id: the caller fetches the result by id,
/// long-polling until it is done. Results stay fetchable for an hour after completion.</summary>
internal sealed class RequestFutures
{
    static readonly TimeSpan Retention = TimeSpan.FromHours(1);
    readonly ConcurrentDictionary<string, Entry> _entries = new();

    sealed record Entry(string Tenant, Task<object> Task, Func<object, object> ToProtocol)
    {
        public DateTimeOffset? CompletedAt { get; set; }
    }

    public static string NewRequestId() => "req_" + Guid.NewGuid().ToString("N");

    /// <summary>Tracks a submitted call. An id is tracked once: replacing an entry would leave
    /// whoever waits on the first task waiting on the second, which in a process that is both a
    /// cluster gateway and a worker was the gateway's follower of that very entry — a future that
    /// waited for itself and never completed (issue #19).</summary>
    public void Track(string requestId, Task<object> done, string tenant, Func<object, object> toProtocol)
    {
        var entry = new Entry(tenant, done, toProtocol);
        if (!_entries.TryAdd(requestId, entry)) throw new InvalidOperationException($"request '{requestId}' is tracked already");
        done.ContinueWith(_ => entry.CompletedAt = DateTimeOffset.UtcNow, TaskScheduler.Default);
        if (Interlocked.Increment(ref _tracked) % 256 == 0) Prune();
    }

    int _tracked;

    /// <summary>Whether this process tracks <paramref name="requestId"/> (it was submitted here).</summary>
    public bool IsTracked(string requestId) => _entries.ContainsKey(requestId);

    /// <summary>A call's result as the API returns it, awaited in process (the service's own
    /// background jobs, such as loops); its failure is thrown.</summary>
    public async Task<T> ResultAsync<T>(string requestId, CancellationToken cancellationToken = default)
    {
        var entry = _entries.TryGetValue(requestId, out var e) ? e : throw new InvalidOperationException($"request '{requestId}' is not tracked");
        return (T)entry.ToProtocol(await entry.Task.WaitAsync(cancellationToken));
    }

    public async Task<FutureResponse> WaitAsync(string requestId, Caller caller, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_entries.TryGetValue(requestId, out var entry) || entry.Tenant != caller.Tenant)
            throw ApiError.NotFound("request", requestId);
        if (!entry.Task.IsCompleted && timeout > TimeSpan.Zero)
        {
            using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(entry.Task, Task.Delay(timeout, delay.Token));
            delay.Cancel();
        }
        if (!entry.Task.IsCompleted) return new FutureResponse(requestId, FutureStatus.Pending);
        if (entry.Task.IsCompletedSuccessfully)
            return new FutureResponse(requestId, FutureStatus.Done)
            {
                Result = JsonSerializer.SerializeToElement(entry.ToProtocol(entry.Task.Result), ProtocolJson.Options),
            };
        return new FutureResponse(requestId, FutureStatus.Failed) { Error = Describe(entry.Task.Exception!.InnerException!) };
    }

    /// <summary>The error body for an exception, whichever layer threw it.</summary>
    public static ErrorDetail Describe(Exception error) => error switch
    {
        ApiError api => new ErrorDetail(api.Code, api.Message) { Field = api.Field },
        RunNotLoadedException r => new ErrorDetail("conflict", r.Message),
        TrainingArgumentException t => new ErrorDetail("invalid_request", t.Message) { Field = t.Field },
        SamplingArgumentException s => new ErrorDetail("invalid_request", s.Message) { Field = s.Field },
        NonFiniteGradientException n => new ErrorDetail("non_finite_gradient", n.Message),
        InvalidDataException d => new ErrorDetail("invalid_data", d.Message),
        IOException io when DiskFull.Is(io) => new ErrorDetail("insufficient_storage", DiskFull.Message(io)),
        _ => new ErrorDetail("internal_error", error.Message),
    };

    public static HttpStatusCode StatusOf(Exception error) => error switch
    {
        ApiError api => api.Status,
        RunNotLoadedException => HttpStatusCode.Conflict,
        TrainingArgumentException or SamplingArgumentException or InvalidDataException => HttpStatusCode.BadRequest,
        NonFiniteGradientException => HttpStatusCode.UnprocessableEntity,
        IOException io when DiskFull.Is(io) => HttpStatusCode.InsufficientStorage,
        _ => HttpStatusCode.InternalServerError,
    };

    void Prune()
    {
        var cutoff = DateTimeOffset.UtcNow - Retention;
        foreach (var (id, entry) in _entries)
            if (entry.CompletedAt < cutoff) _entries.TryRemove(id, out _);
    }
}
