using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Whetstone.Service.Auth;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Runs;

/// <summary>Each run's metrics as a JSON-lines file under the data directory
/// (<c>metrics/&lt;run&gt;.jsonl</c>, one <see cref="P.RunMetricPoint"/> a line, in the order
/// recorded): what the console draws a run's curves from. A file beside the checkpoints rather
/// than a table, because points arrive every step and are only ever appended and read in order.</summary>
internal sealed class RunMetricsLog(ServiceContext context)
{
    public const int MaxMetricsPerCall = 64, MaxNameLength = 100;
    readonly ConcurrentDictionary<string, object> _fileLocks = new();

    string FileOf(string runId) => Path.Combine(context.DataDirectory, "metrics", runId + ".jsonl");

    /// <summary>Appends points the service measured itself. A failed write is logged, never
    /// thrown: a training step that ran must not report an error because its metric was not kept.</summary>
    public void RecordMeasured(string runId, long step, IReadOnlyDictionary<string, double> values)
    {
        try { Append(runId, step, values); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            context.Logger.LogError(e, "recording metrics of {Run}", runId);
        }
    }

    /// <summary>The caller's own metrics of their run (a recipe's reward or eval score), checked
    /// whole before anything is written.</summary>
    public async Task RecordAsync(Caller caller, string runId, P.RecordRunMetricsRequest? request)
    {
        await OwnedAsync(caller, runId);
        if (request is null) throw ApiError.BadRequest("metrics", "is required");
        if (request.Step < 0) throw ApiError.BadRequest("step", $"= {request.Step} must be at least 0");
        if (request.Metrics is null || request.Metrics.Count == 0) throw ApiError.BadRequest("metrics", "is empty: give at least one name and value");
        if (request.Metrics.Count > MaxMetricsPerCall)
            throw ApiError.BadRequest("metrics", $"has {request.Metrics.Count} entries, at most {MaxMetricsPerCall} a call");
        foreach (var (name, value) in request.Metrics)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength)
                throw ApiError.BadRequest("metrics", $"name '{name}' must be 1 to {MaxNameLength} characters");
            if (!double.IsFinite(value)) throw ApiError.BadRequest($"metrics.{name}", $"= {value} is not a finite number");
        }
        Append(runId, request.Step, request.Metrics);
    }

    /// <summary>The run's points from index <paramref name="after"/> on (0: all of them).</summary>
    public async Task<P.RunMetrics> ReadAsync(Caller caller, string runId, int after)
    {
        await OwnedAsync(caller, runId);
        if (after < 0) throw ApiError.BadRequest("after", $"= {after} must be at least 0");
        string[] lines;
        lock (LockOf(runId)) lines = File.Exists(FileOf(runId)) ? File.ReadAllLines(FileOf(runId)) : [];
        var points = lines.Skip(after).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<P.RunMetricPoint>(l, P.ProtocolJson.Options)!).ToArray();
        return new P.RunMetrics(runId, points, Math.Max(after, lines.Length));
    }

    void Append(string runId, long step, IReadOnlyDictionary<string, double> values)
    {
        var at = DateTimeOffset.UtcNow;
        var lines = string.Concat(values.Select(v =>
            JsonSerializer.Serialize(new P.RunMetricPoint(step, v.Key, v.Value, at), P.ProtocolJson.Options) + "\n"));
        var file = FileOf(runId);
        lock (LockOf(runId))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.AppendAllText(file, lines);
        }
    }

    object LockOf(string runId) => _fileLocks.GetOrAdd(runId, _ => new object());

    async Task OwnedAsync(Caller caller, string runId)
    {
        var run = await context.Store.GetRunAsync(runId);
        if (run is null || run.Tenant != caller.Tenant) throw ApiError.NotFound("training run", runId);
    }
}
