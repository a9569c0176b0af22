using Whetstone.Engine.Worker;

namespace Whetstone.Service.Scheduling;

/// <summary>What one scheduler cycle did. <see cref="RunsPerLearnerPass"/>: for each batched
/// learner pass, how many runs it served (two runs' forward_backward calls in one pass show as 2).</summary>
public sealed record CycleMetrics(
    DateTimeOffset StartedAt,
    double Seconds,
    int Runs,
    int LearnerCalls,
    long TrainedTokens,
    int OptimSteps,
    int SampleCalls,
    long SampledTokens,
    int QueueDepthAfter)
{
    public IReadOnlyList<int> RunsPerLearnerPass { get; init; } = [];
    public double LearnerSeconds { get; init; }
    public double DecodeSeconds { get; init; }
    public int DecodeSteps { get; init; }

    internal static CycleMetrics From(CycleReport report, int queueDepthAfter)
    {
        var plan = report.Plan;
        var learner = plan.LearnerPasses.SelectMany(p => p.Calls).ToArray();
        var runs = plan.Before.Concat<RunCall>(learner).Concat(plan.OptimSteps).Concat(plan.After).Select(c => c.RunId).Distinct().Count();
        return new CycleMetrics(report.StartedAt, report.Seconds, runs, learner.Length, learner.Sum(c => c.Data.Sum(d => (long)d.Length)),
            plan.OptimSteps.Count, plan.Joining.Count, report.DecodedTokens, queueDepthAfter)
        {
            RunsPerLearnerPass = plan.LearnerPasses.Select(p => p.Runs).ToArray(),
            LearnerSeconds = report.LearnerSeconds,
            DecodeSeconds = report.DecodeSeconds,
            DecodeSteps = report.DecodeSteps,
        };
    }
}
