using System.Collections.Concurrent;
using Whetstone.Engine.Worker;

namespace Whetstone.Engine.Tests.Worker;

/// <summary>A planner that hands the worker the plans a test wrote, one per cycle, and keeps the
/// worker's reports.</summary>
sealed class ScriptedPlans : ICyclePlanSource
{
    readonly ConcurrentQueue<CyclePlan> _plans = new();
    public ConcurrentQueue<CycleReport> Reports { get; } = new();
    public EngineWorker? Worker { get; set; }

    public void Add(CyclePlan plan)
    {
        _plans.Enqueue(plan);
        Worker?.Wake();
    }

    public bool HasWaitingWork => !_plans.IsEmpty;

    public IReadOnlyList<DecodeCall> TakeJoining(DecodeLoad decoding) => [];

    public CyclePlan Next(DecodeLoad decoding) => _plans.TryDequeue(out var plan) ? plan : new CyclePlan();

    public void Finished(CycleReport report)
    {
        if (!report.Plan.IsEmpty || report.DecodeSteps > 0) Reports.Enqueue(report);
    }
}
