namespace Whetstone.Engine.Worker;

/// <summary>One call handed to an <see cref="EngineWorker"/>: plain data in, a future out. The
/// future carries the engine's result (a record) or the error; the worker fills in
/// <see cref="Usage"/> before completing it.</summary>
public abstract class WorkerCall(string requestId)
{
    public string RequestId { get; } = requestId;
    public TaskCompletionSource<object> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public CallUsage Usage { get; internal set; } = new();
}

/// <summary>What a call consumed, for accounting.</summary>
public sealed record CallUsage
{
    public long PrefillTokens { get; init; }
    /// <summary>Tokens whose KV came from a kept prefix instead of a prefill (<see cref="LogprobsCall.PrefixKey"/>, <see cref="DecodeCall.PrefixKey"/>).</summary>
    public long ReusedPrefixTokens { get; init; }
    public long SampledTokens { get; init; }
    public long TrainedTokens { get; init; }
    public double ComputeSeconds { get; init; }
}
