using Whetstone.Engine.Worker;

namespace Whetstone.Service.Scheduling;

/// <summary>The one place that decides what runs when, for one base model, without touching a
/// tensor: it holds the queues, and each cycle the engine worker asks it for a plan. A plan takes,
/// for every run, its queued calls up to its next optimizer step (operations at the head, its
/// forward/forward_backward calls, one optimizer step, operations after it — calls of one run keep
/// their submission order); the learner calls of all runs on one network go into one batched pass
/// (LoRA runs share the base network; a full fine-tuning run has its own); compute_logprobs calls
/// run; and the waiting decode calls that fit join the running decode batch
/// (<see cref="DecodeAdmission"/>) — at the start of the cycle's decoding and, through
/// <see cref="TakeJoining"/>, between any two decode steps, also between learner chunks. The queue is bounded: a full queue refuses new calls (429)
/// instead of dropping any.</summary>
internal sealed class CyclePlanner(string modelName, int capacity, SchedulingOptions options) : ICyclePlanSource
{
    readonly object _lock = new();
    readonly Dictionary<string, PlannedRun> _runs = new(StringComparer.Ordinal);
    readonly List<LogprobsCall> _logprobs = [];
    readonly List<DecodeCall> _decodes = [];
    readonly Queue<CycleMetrics> _recentCycles = new();
    readonly DecodeAdmission _admission = new(options);
    int _pending;
    int _joinedMidCycle;

    sealed class PlannedRun(string network)
    {
        public string Network { get; } = network;
        public Queue<RunCall> Queue { get; } = new();
    }

    public string ModelName { get; } = modelName;
    public int Capacity { get; } = capacity;
    public SchedulingOptions Options { get; } = options;
    /// <summary>Called when a call is queued (the worker wakes up).</summary>
    public Action? WorkArrived { get; set; }
    /// <summary>Called after each cycle, outside the lock (metrics).</summary>
    public Action<CycleMetrics>? CycleFinished { get; set; }

    public int QueueDepth { get { lock (_lock) return _pending; } }

    /// <summary>Since start: tokens decoded, and seconds spent decoding and in learner passes.</summary>
    public (long DecodedTokens, double DecodeSeconds, double LearnerSeconds) Totals { get { lock (_lock) return _totals; } }
    (long, double, double) _totals;

    public IReadOnlyList<CycleMetrics> RecentCycles { get { lock (_lock) return _recentCycles.ToArray(); } }

    /// <summary>Makes the planner aware of a run: <paramref name="ownNetwork"/> for full fine-tuning
    /// (its learner calls cannot share a pass with the LoRA runs on the base network).</summary>
    public void Register(string runId, bool ownNetwork)
    {
        lock (_lock)
            if (!_runs.ContainsKey(runId)) _runs[runId] = new PlannedRun(ownNetwork ? runId : EngineWorker.BaseNetwork);
    }

    /// <summary>Queues a call; throws the 429 error when the queue is full.</summary>
    public void Enqueue(WorkerCall call)
    {
        lock (_lock)
        {
            if (_pending >= Capacity) throw QueueFull.Error(ModelName, Capacity);
            switch (call)
            {
                case RunCall run:
                    if (!_runs.TryGetValue(run.RunId, out var planned)) throw new InvalidOperationException($"run '{run.RunId}' is not registered");
                    planned.Queue.Enqueue(run);
                    break;
                case LogprobsCall logprobs: _logprobs.Add(logprobs); break;
                case DecodeCall decode: _decodes.Add(decode); break;
                default: throw new ArgumentException($"unknown call {call.GetType().Name}");
            }
            _pending++;
        }
        WorkArrived?.Invoke();
    }

    public bool HasWaitingWork
    {
        get
        {
            lock (_lock)
                return _logprobs.Count > 0 || _runs.Values.Any(r => r.Queue.Count > 0);
        }
    }

    public CyclePlan Next(DecodeLoad decoding)
    {
        lock (_lock)
        {
            var before = new List<RunOperationCall>();
            var learner = new List<(string Network, LearnerCall Call)>();
            var optim = new List<OptimStepCall>();
            var after = new List<RunOperationCall>();
            foreach (var run in _runs.Values.Where(r => r.Queue.Count > 0)) Take(run, before, learner, optim, after);
            // Forward passes first, then forward_backward: one pass per network and kind, each
            // serving every run with calls of that kind.
            var passes = learner.GroupBy(x => (x.Call.Backward, x.Network)).OrderBy(g => g.Key.Backward)
                .Select(g => new LearnerPassPlan(g.Key.Network, g.Key.Backward, g.Select(x => x.Call).ToArray())).ToArray();
            var logprobs = _logprobs.ToArray();
            _logprobs.Clear();
            bool live = decoding.LiveRows > 0 || _decodes.Any(c => c.Priority == DecodePriority.Live);
            var joining = _admission.Admit(_decodes, decoding);
            return new CyclePlan
            {
                Before = before, LearnerPasses = passes, OptimSteps = optim, After = after, Logprobs = logprobs, Joining = joining,
                Decode = new DecodeBudget
                {
                    LiveShare = Options.LiveDecodeShare, BatchShare = Options.BatchDecodeShare, IdleSteps = Options.IdleDecodeSteps,
                    // Live answers waiting or decoding: smaller learner chunks, so they get more turns inside a pass.
                    LearnerTokensPerChunk = live ? Options.LiveLearnerTokensPerChunk : null,
                },
            };
        }
    }

    public IReadOnlyList<DecodeCall> TakeJoining(DecodeLoad decoding)
    {
        lock (_lock)
        {
            if (_decodes.Count == 0) return [];
            var joining = _admission.Admit(_decodes, decoding);
            _pending -= joining.Count;
            _joinedMidCycle += joining.Count;
            return joining;
        }
    }

    // One run's share of a cycle, in its own order.
    static void Take(PlannedRun run, List<RunOperationCall> before, List<(string, LearnerCall)> learner, List<OptimStepCall> optim,
        List<RunOperationCall> after)
    {
        var queue = run.Queue;
        while (queue.TryPeek(out var head) && head is RunOperationCall op) { before.Add(op); queue.Dequeue(); }
        while (queue.TryPeek(out var head) && head is LearnerCall call) { learner.Add((run.Network, call)); queue.Dequeue(); }
        if (queue.TryPeek(out var next) && next is OptimStepCall step) { optim.Add(step); queue.Dequeue(); }
        while (queue.TryPeek(out var head) && head is RunOperationCall op) { after.Add(op); queue.Dequeue(); }
    }

    public void Finished(CycleReport report)
    {
        bool more;
        CycleMetrics metrics;
        lock (_lock)
        {
            _pending -= report.Plan.CallCount;
            _totals = (_totals.Item1 + report.DecodedTokens, _totals.Item2 + report.DecodeSeconds, _totals.Item3 + report.LearnerSeconds);
            metrics = CycleMetrics.From(report, _pending);
            metrics = metrics with { SampleCalls = metrics.SampleCalls + _joinedMidCycle };
            _recentCycles.Enqueue(metrics);
            _joinedMidCycle = 0;
            while (_recentCycles.Count > 100) _recentCycles.Dequeue();
            more = _pending > 0;
        }
        CycleFinished?.Invoke(metrics);
        if (more) WorkArrived?.Invoke();
    }
}
