using Whetstone.Engine.Worker;

namespace Whetstone.Service.Scheduling;

/// <summary>One served base model: the planner that decides its cycles and the engine worker
/// that runs them (and holds every tensor).</summary>
internal sealed class BaseModelHost(CyclePlanner planner, EngineWorker worker) : IDisposable
{
    public CyclePlanner Planner { get; } = planner;
    public EngineWorker Worker { get; } = worker;
    public string Name => Planner.ModelName;

    public void Dispose() => Worker.Dispose();
}
