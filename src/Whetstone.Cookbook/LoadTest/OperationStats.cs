using System.Collections.Concurrent;

namespace Whetstone.Cookbook.LoadTest;

/// <summary>Per kind of operation (forward_backward+optim_step, sample, /v1 chat, …): how many
/// finished, how many failed (those whose last answer was a 429 apart), and their latencies.</summary>
public sealed class OperationStats
{
    readonly ConcurrentDictionary<string, Kind> _kinds = new();

    sealed class Kind
    {
        public readonly List<double> Seconds = [];
        public long Failed, RefusedAs429, CutOff;
    }

    public sealed record Summary(string Operation, int Done, long Failed, long RefusedAs429, long CutOff, double P50Seconds, double P95Seconds);

    Kind Of(string operation) => _kinds.GetOrAdd(operation, _ => new Kind());

    public void Done(string operation, TimeSpan took)
    {
        var kind = Of(operation);
        lock (kind) kind.Seconds.Add(took.TotalSeconds);
    }

    public void Failed(string operation) => Interlocked.Increment(ref Of(operation).Failed);
    public void RefusedAs429(string operation) => Interlocked.Increment(ref Of(operation).RefusedAs429);
    public void CutOff(string operation) => Interlocked.Increment(ref Of(operation).CutOff);

    public long TotalFailed => _kinds.Values.Sum(k => Interlocked.Read(ref k.Failed));
    public long TotalCutOff => _kinds.Values.Sum(k => Interlocked.Read(ref k.CutOff));

    public IReadOnlyList<Summary> Summaries() => _kinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k =>
    {
        double[] sorted;
        lock (k.Value) sorted = [.. k.Value.Seconds.Order()];
        return new Summary(k.Key, sorted.Length, k.Value.Failed, k.Value.RefusedAs429, k.Value.CutOff, Quantile(sorted, 0.5), Quantile(sorted, 0.95));
    }).ToList();

    /// <summary>Nearest-rank quantile of sorted values (NaN when there are none).</summary>
    static double Quantile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
