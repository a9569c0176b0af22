namespace Whetstone.Protocol;

/// <summary>One recorded value of a run's named metric at a training step. The service records
/// "loss:sum" (each forward_backward) and "grad_norm" (each optim_step) itself; clients add their
/// own (a recipe's "reward", "eval/accuracy") with <see cref="RecordRunMetricsRequest"/>.</summary>
public sealed record RunMetricPoint(long Step, string Name, double Value, DateTimeOffset At);

/// <summary>A run's metrics, oldest first; only the points after index <c>after</c> when asked
/// (a live page fetches what is new).</summary>
public sealed record RunMetrics(string RunId, IReadOnlyList<RunMetricPoint> Points, int Next);

/// <summary>Client-side metrics of a run at a step, e.g. {"reward": 0.41, "eval/accuracy": 0.3}.</summary>
public sealed record RecordRunMetricsRequest(long Step, IReadOnlyDictionary<string, double> Metrics);
