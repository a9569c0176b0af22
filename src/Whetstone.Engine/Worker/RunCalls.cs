using Whetstone.Engine.Training;

namespace Whetstone.Engine.Worker;

/// <summary>A call that belongs to a training run and runs in that run's submission order.</summary>
public abstract class RunCall(string requestId, string runId) : WorkerCall(requestId)
{
    public string RunId { get; } = runId;
}

/// <summary>forward (Backward = false) or forward_backward: joins the cycle's batched learner pass.
/// Either <see cref="Loss"/> or (custom loss) <see cref="LogprobGradients"/> is set.</summary>
public sealed class LearnerCall(string requestId, string runId, IReadOnlyList<Datum> data, bool backward) : RunCall(requestId, runId)
{
    public IReadOnlyList<Datum> Data { get; } = data;
    public bool Backward { get; } = backward;
    public LossSpec? Loss { get; init; }
    public IReadOnlyList<IReadOnlyList<float>>? LogprobGradients { get; init; }
}

public sealed class OptimStepCall(string requestId, string runId, AdamParams parameters) : RunCall(requestId, runId)
{
    public AdamParams Parameters { get; } = parameters;
}

/// <summary>Anything else a run does in its order (save, load, reward-model passes).</summary>
public sealed class RunOperationCall(string requestId, string runId, RunOperation operation) : RunCall(requestId, runId)
{
    public RunOperation Operation { get; } = operation;
}
