namespace Whetstone.Engine.Worker;

/// <summary>Where an <see cref="EngineWorker"/> gets its cycles: the service's planner, which
/// holds the queues and decides; the worker only executes.</summary>
public interface ICyclePlanSource
{
    /// <summary>Calls are queued that need a new cycle (learner work, run operations, logprobs);
    /// decode calls do not: they join between steps through <see cref="TakeJoining"/>.</summary>
    bool HasWaitingWork { get; }

    /// <summary>Takes what the next cycle runs from the queues, given the rows decoding now.</summary>
    CyclePlan Next(DecodeLoad decoding);

    /// <summary>Decode calls that may join the running batch now, between the steps of a cycle
    /// (between learner chunks too), so a new request waits for a step, not for a whole cycle.</summary>
    IReadOnlyList<DecodeCall> TakeJoining(DecodeLoad decoding);

    /// <summary>After the cycle: every call of the plan has completed (decode calls: joined).</summary>
    void Finished(CycleReport report);
}
