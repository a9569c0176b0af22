using System.Globalization;
using System.Text;

namespace Whetstone.Cookbook.LoadTest;

/// <summary>One client's optimizer steps: acknowledged in its own log against the server's step of
/// its run. Lost: acknowledged but not applied; duplicated: applied more often than acknowledged.</summary>
public sealed record ClientSteps(int Client, string? RunId, int Iterations, int Acknowledged, long ServerStep, int InDoubt, int OutOfSequence)
{
    public long Lost => Math.Max(0, Acknowledged - ServerStep);
    public long Duplicated => Math.Max(0, ServerStep - Acknowledged);
}

/// <summary>What a load test saw, and whether it met its goal: no answer but 2xx and 429, no
/// failed operation but 429s, nothing cut off, and every client's acknowledged steps equal to its
/// run's step on the server — and, over all clients, to the server's optimizer-step counter and its
/// 429 counter to the 429s the clients received.</summary>
public sealed record LoadTestReport(
    LoadTestSettings Settings,
    TimeSpan Elapsed,
    IReadOnlyList<ClientSteps> Clients,
    IReadOnlyDictionary<int, long> HttpByStatus,
    long HttpNoAnswer,
    long HttpCutOff,
    IReadOnlyList<string> ErrorExamples,
    IReadOnlyList<OperationStats.Summary> Operations,
    long SampledTokens,
    long TrainedTokens,
    ServerMetrics Server)
{
    public double MetricsOptimSteps => Server.Delta(ServerMetrics.OptimSteps);
    public double MetricsRejected => Server.Delta(ServerMetrics.Rejected);
    public long Acknowledged => Clients.Sum(c => (long)c.Acknowledged);
    public long ServerSteps => Clients.Sum(c => c.ServerStep);
    public long Lost => Clients.Sum(c => c.Lost);
    public long Duplicated => Clients.Sum(c => c.Duplicated);
    public long Http429 => HttpByStatus.TryGetValue(429, out var n) ? n : 0;
    public long HttpErrors => HttpByStatus.Where(s => s.Key is < 200 or >= 300 && s.Key != 429).Sum(s => s.Value) + HttpNoAnswer;
    public long FailedOperations => Operations.Sum(o => o.Failed);
    public long CutOffOperations => Operations.Sum(o => o.CutOff);

    /// <summary>Why the test failed, one reason a line; empty when it met its goal.</summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (HttpErrors > 0) failures.Add($"{HttpErrors} HTTP answers other than 2xx and 429 (or no answer)");
        if (FailedOperations > 0) failures.Add($"{FailedOperations} operations failed other than by 429");
        if (CutOffOperations > 0 || HttpCutOff > 0) failures.Add($"{CutOffOperations} operations cut off at the hard deadline: the drain was too short");
        if (Clients.Any(c => c.RunId is null)) failures.Add($"{Clients.Count(c => c.RunId is null)} clients could not create their run");
        if (Lost > 0) failures.Add($"{Lost} optimizer steps lost (acknowledged, not applied)");
        if (Duplicated > 0) failures.Add($"{Duplicated} optimizer steps duplicated (applied, not acknowledged)");
        if (Clients.Sum(c => c.InDoubt) is > 0 and var doubt) failures.Add($"{doubt} optimizer steps in doubt (submitted, never acknowledged)");
        if (Clients.Sum(c => c.OutOfSequence) is > 0 and var gaps) failures.Add($"{gaps} acknowledged steps out of sequence");
        if (MetricsOptimSteps != Acknowledged) failures.Add($"{Server.Route} counted {MetricsOptimSteps} optimizer steps, the clients {Acknowledged}");
        if (MetricsRejected != Http429) failures.Add($"{Server.Route} counted {MetricsRejected} 429s, the clients received {Http429}");
        if (Acknowledged == 0) failures.Add("no optimizer step was acknowledged at all");
        return failures;
    }

    public bool Passed => Failures().Count == 0;

    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"load test: {Settings.Clients} clients on {Settings.BaseModel}, {Settings.Duration.TotalSeconds:0} s of new work, {Elapsed.TotalSeconds:0.0} s in all");
        text.AppendLine(c, $"optimizer steps: {Acknowledged} acknowledged in the clients' logs, {ServerSteps} on the server's runs, {MetricsOptimSteps} in {Server.Route}; lost {Lost}, duplicated {Duplicated}");
        text.AppendLine(c, $"HTTP answers: {string.Join(", ", HttpByStatus.Select(s => $"{s.Key}×{s.Value}"))}; no answer {HttpNoAnswer}; 429s received {Http429}, counted by {Server.Route} {MetricsRejected}");
        text.AppendLine(c, $"tokens (clients): {TrainedTokens} trained ({TrainedTokens / Elapsed.TotalSeconds:0.0}/s), {SampledTokens} sampled, streamed /v1 answers not counted ({SampledTokens / Elapsed.TotalSeconds:0.0}/s)");
        text.AppendLine(c, $"server ({Server.Route}, all silos): trained {Server.Delta("whetstone_trained_tokens_total") / Elapsed.TotalSeconds:0.0} tokens/s, sampled {Server.Delta("whetstone_sampled_tokens_total") / Elapsed.TotalSeconds:0.0} tokens/s, " +
            $"{Server.Delta("whetstone_cycles_total")} cycles of mean {Server.Mean("whetstone_cycle_duration_seconds"):0.000} s, peak queue depth {Server.PeakQueueDepth}, " +
            $"/v1 TTFT mean {Server.Mean("whetstone_openai_time_to_first_token_seconds"):0.000} s, inter-token mean {Server.Mean("whetstone_openai_inter_token_latency_seconds"):0.000} s, " +
            $"adapter cache {Server.Delta("whetstone_adapter_cache_hits_total")} hits / {Server.Delta("whetstone_adapter_cache_misses_total")} misses");
        text.AppendLine("operation                 done  failed  429  cut   p50 s   p95 s");
        foreach (var o in Operations)
            text.AppendLine(c, $"{o.Operation,-24}{o.Done,6}{o.Failed,8}{o.RefusedAs429,5}{o.CutOff,5}{o.P50Seconds,8:0.000}{o.P95Seconds,8:0.000}");
        foreach (var example in ErrorExamples) text.AppendLine($"  error: {example}");
        var failures = Failures();
        text.AppendLine(failures.Count == 0 ? "PASS: 0 errors other than 429s, 0 lost and 0 duplicated optimizer steps" : "FAIL: " + string.Join("; ", failures));
        return text.ToString();
    }
}
