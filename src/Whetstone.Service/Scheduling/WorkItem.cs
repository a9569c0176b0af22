using Whetstone.Engine.Lora;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using Whetstone.Service.Persistence;
using EngineSampleRequest = Whetstone.Engine.Sampling.SampleRequest;

namespace Whetstone.Service.Scheduling;

/// <summary>One queued call. Its completion carries the protocol result object (or the error).</summary>
internal abstract class WorkItem(string requestId)
{
    public string RequestId { get; } = requestId;
    public TaskCompletionSource<object> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Set by the worker: what the call consumed, for accounting.</summary>
    public UsageTotals Usage { get; set; } = new();
}

/// <summary>A call that belongs to a training run and must run in that run's submission order.</summary>
internal abstract class RunWorkItem(string requestId, ScheduledRun run) : WorkItem(requestId)
{
    public ScheduledRun Run { get; } = run;
}

/// <summary>forward (Backward = false) or forward_backward: joins the cycle's batched pass.</summary>
internal sealed class LearnerItem(string requestId, ScheduledRun run, LearnerWork work, bool backward) : RunWorkItem(requestId, run)
{
    public LearnerWork Work { get; } = work;
    public bool Backward { get; } = backward;
}

internal sealed class OptimStepItem(string requestId, ScheduledRun run, AdamParams parameters) : RunWorkItem(requestId, run)
{
    public AdamParams Parameters { get; } = parameters;
}

/// <summary>save_state, load_state, save_weights_for_sampler: run on the worker thread, in order.</summary>
internal sealed class RunOperationItem(string requestId, ScheduledRun run, Func<TrainingRun, object> operation) : RunWorkItem(requestId, run)
{
    public Func<TrainingRun, object> Operation { get; } = operation;
}

internal sealed class SampleItem(string requestId, EngineSampleRequest request) : WorkItem(requestId)
{
    public EngineSampleRequest Request { get; } = request;
    /// <summary>A whole model of its own (a full fine-tuning checkpoint); null: the base model.</summary>
    public Sampler? Sampler { get; init; }
}

internal sealed class ComputeLogprobsItem(string requestId, IReadOnlyList<int> tokens, LoraAdapter? adapter) : WorkItem(requestId)
{
    public IReadOnlyList<int> Tokens { get; } = tokens;
    public LoraAdapter? Adapter { get; } = adapter;
    /// <summary>A whole model of its own (a full fine-tuning checkpoint); null: the base model.</summary>
    public Sampler? Sampler { get; init; }
}

/// <summary>Any other tensor work that must happen on the worker thread (creating a run,
/// loading an adapter): runs at the start of the next cycle.</summary>
internal sealed class WorkerTaskItem(string requestId, Func<object> action) : WorkItem(requestId)
{
    public Func<object> Action { get; } = action;
}

/// <summary>A run as the scheduler sees it: the engine run (created on the worker thread) and
/// the queue of its calls.</summary>
internal sealed class ScheduledRun(string id)
{
    public string Id { get; } = id;
    public TrainingRun? Engine { get; set; }
    public Queue<RunWorkItem> Queue { get; } = new();
}

/// <summary>A request for the running decode batch: joins it at the next cycle, then streams its
/// tokens through <see cref="Stream"/>. Completes (for the queue) once it has joined.</summary>
internal sealed class DecodeItem(string requestId, DecodeStream stream) : WorkItem(requestId)
{
    public DecodeStream Stream { get; } = stream;
}
