namespace Whetstone.Engine.Worker;

/// <summary>Where an <see cref="EngineWorker"/> gets its cycles: the service's planner, which
/// holds the queues and decides; the worker only executes.</summary>
public interface ICyclePlanSource
{
    /// <summary>Calls are queued that the next plan would take.</summary>
    bool HasWaitingWork { get; }

    /// <summary>Takes what the next cycle runs from the queues, given the rows decoding now.</summary>
    CyclePlan Next(DecodeLoad decoding);

    /// <summary>After the cycle: every call of the plan has completed (decode calls: joined).</summary>
    void Finished(CycleReport report);
}
