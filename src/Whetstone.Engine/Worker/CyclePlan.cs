namespace Whetstone.Engine.Worker;

/// <summary>What one cycle runs, as the planner decided it, in this order: run operations at
/// the head of each run's queue, the learner passes, each run's optimizer step, operations after
/// it, compute_logprobs calls, the decode calls that join the running batch, then decode steps
/// under <see cref="Decode"/>. Tensor-free: the worker looks every id up itself.</summary>
public sealed record CyclePlan
{
    public IReadOnlyList<RunOperationCall> Before { get; init; } = [];
    public IReadOnlyList<LearnerPassPlan> LearnerPasses { get; init; } = [];
    public IReadOnlyList<OptimStepCall> OptimSteps { get; init; } = [];
    public IReadOnlyList<RunOperationCall> After { get; init; } = [];
    public IReadOnlyList<LogprobsCall> Logprobs { get; init; } = [];
    public IReadOnlyList<DecodeCall> Joining { get; init; } = [];
    public DecodeBudget Decode { get; init; } = new();

    public int CallCount => Before.Count + LearnerPasses.Sum(p => p.Calls.Count) + OptimSteps.Count + After.Count + Logprobs.Count + Joining.Count;
    public bool IsEmpty => CallCount == 0;
}

/// <summary>One batched pass over one network: every call shares its chunks. <see cref="Network"/>
/// is "base" for LoRA runs (they share the base network) or a full fine-tuning run's id.</summary>
public sealed record LearnerPassPlan(string Network, bool Backward, IReadOnlyList<LearnerCall> Calls)
{
    public int Runs => Calls.Select(c => c.RunId).Distinct().Count();
}

/// <summary>How much of the machine decoding gets. With learner work in the cycle, decoding runs
/// between its chunks and after it until it has had <c>share / (1 − share)</c> of the learner's
/// time (the live share when a live row decodes, else the batch share); with nothing else waiting
/// it runs up to <see cref="IdleSteps"/> steps before the planner is asked again.</summary>
public sealed record DecodeBudget
{
    public double LiveShare { get; init; } = 0.5;
    public double BatchShare { get; init; } = 0.25;
    public int IdleSteps { get; init; } = 8;
    /// <summary>Steps a cycle runs even when other work waits, so decoding always moves.</summary>
    public int MinSteps { get; init; } = 1;
    /// <summary>Padded tokens per learner chunk (null: <see cref="Training.LearnerPass.DefaultTokensPerChunk"/>).
    /// Smaller chunks give decoding more places to run inside a long pass.</summary>
    public int? LearnerTokensPerChunk { get; init; }
}

/// <summary>The rows decoding now, for the planner: per owner, and how many are live.</summary>
public sealed record DecodeLoad(IReadOnlyDictionary<string, int> RowsByOwner, int LiveRows)
{
    public static readonly DecodeLoad Empty = new(new Dictionary<string, int>(), 0);
    public int Rows => RowsByOwner.Values.Sum();
}

/// <summary>What a cycle did, as the worker measured it.</summary>
public sealed record CycleReport(CyclePlan Plan, DateTimeOffset StartedAt, double Seconds, double LearnerSeconds, double DecodeSeconds,
    int DecodeSteps, long DecodedTokens)
{
    /// <summary>Of <see cref="DecodeSteps"/>, those run between the chunks of a learner pass.</summary>
    public int DecodeStepsBetweenChunks { get; init; }
    /// <summary>Decode calls that joined between steps (taken from the planner mid-cycle, not in <see cref="Plan"/>).</summary>
    public int JoinedMidCycle { get; init; }
}
