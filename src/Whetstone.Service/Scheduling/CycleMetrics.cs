namespace Whetstone.Service.Scheduling;

/// <summary>What one scheduler cycle did.</summary>
public sealed record CycleMetrics(
    DateTimeOffset StartedAt,
    double Seconds,
    int Runs,
    int LearnerCalls,
    long TrainedTokens,
    int OptimSteps,
    int SampleCalls,
    long SampledTokens,
    int QueueDepthAfter);
