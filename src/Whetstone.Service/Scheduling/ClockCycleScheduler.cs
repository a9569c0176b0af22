using System.Diagnostics;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Scheduling;

/// <summary>The one place that decides what runs when, for one base model. A dedicated thread
/// (all tensor work of this model happens on it) runs cycles: each cycle takes, for every run,
/// its queued calls up to its next optimizer step — forward and forward_backward of all runs go
/// into batched passes with mixed adapters, then the optimizer steps are applied — and then all
/// queued sampling requests decode together. Calls of one run keep their submission order.
/// The queue is bounded: a full queue refuses new calls (429) instead of dropping any.
/// Served completions (the OpenAI API) go through a <see cref="DecodeBatch"/> that outlives the
/// cycle: new requests join it at the start of a cycle, and each cycle advances it a few steps,
/// fewer as soon as other work is waiting, so training on the same base model interleaves.</summary>
internal sealed class ClockCycleScheduler : IDisposable
{
    readonly object _lock = new();
    readonly Dictionary<string, ScheduledRun> _runs = new();
    readonly List<WorkItem> _shared = [];
    readonly Thread _thread;
    readonly CancellationTokenSource _stop = new();
    readonly SemaphoreSlim _signal = new(0);
    readonly Queue<CycleMetrics> _recentCycles = new();
    readonly DecodeBatch _decode;
    // Served requests on a full fine-tuning checkpoint decode with that model's own network: one
    // batch per such model, kept only while it has rows (the model may be disposed after).
    readonly Dictionary<PretrainedModel, DecodeBatch> _ownDecodes = new(ReferenceEqualityComparer.Instance);
    int _pending;

    /// <summary>Decode steps a cycle runs at most while nothing else waits.</summary>
    public const int MaxDecodeStepsPerCycle = 8;

    public string ModelName { get; }
    public PretrainedModel Model { get; }
    public int Capacity { get; }
    public static readonly TimeSpan GatherWindow = TimeSpan.FromMilliseconds(3);
    public Sampler Sampler { get; }
    /// <summary>Called on the worker thread after each call completes, for accounting.</summary>
    public Action<WorkItem>? Completed { get; set; }
    public Action<Exception>? CycleFailed { get; set; }

    public ClockCycleScheduler(string modelName, PretrainedModel model, int capacity)
    {
        ModelName = modelName;
        Model = model;
        Capacity = capacity;
        Sampler = new Sampler(model.Network, model.Tokenizer);
        _decode = new DecodeBatch(model.Network, model.Tokenizer);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"whetstone-{modelName}" };
        _thread.Start();
    }

    public int QueueDepth { get { lock (_lock) return _pending; } }

    public IReadOnlyList<CycleMetrics> RecentCycles { get { lock (_lock) return _recentCycles.ToArray(); } }

    public ScheduledRun Register(string runId)
    {
        lock (_lock)
        {
            if (!_runs.TryGetValue(runId, out var run)) _runs[runId] = run = new ScheduledRun(runId);
            return run;
        }
    }

    /// <summary>Queues a call; throws the 429 error when the queue is full.</summary>
    public void Enqueue(WorkItem item)
    {
        lock (_lock)
        {
            if (_pending >= Capacity) throw QueueFull.Error(ModelName, Capacity);
            if (item is RunWorkItem runItem) runItem.Run.Queue.Enqueue(runItem);
            else _shared.Add(item);
            _pending++;
        }
        _signal.Release();
    }

    void Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (_decode.Count == 0 && _ownDecodes.Count == 0)
            {
                try { _signal.Wait(_stop.Token); }
                catch (OperationCanceledException) { break; }
                // Calls that arrive together (one client's forward_backward then optim_step, or many
                // clients woken by the same finished cycle) should share a cycle: wait a moment for
                // the rest of the burst. Short against any pass, long against a loopback round trip.
                Thread.Sleep(GatherWindow);
            }
            while (_signal.CurrentCount > 0) _signal.Wait(0);   // one cycle serves every signal so far
            try { RunCycle(); }
            catch (Exception e) { CycleFailed?.Invoke(e); }   // calls fail individually; the loop must go on
        }
    }

    void RunCycle()
    {
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        List<WorkItem> shared;
        var plans = new List<RunPlan>();
        lock (_lock)
        {
            shared = [.. _shared];
            _shared.Clear();
            foreach (var run in _runs.Values.Where(r => r.Queue.Count > 0)) plans.Add(RunPlan.Take(run));
        }

        foreach (var task in shared.OfType<WorkerTaskItem>()) Complete(task, () => task.Action());
        foreach (var plan in plans) foreach (var op in plan.Before) Complete(op, () => op.Operation(Engine(op)));
        var learner = plans.SelectMany(p => p.Learner).ToList();
        RunLearnerPasses(learner.Where(i => !i.Backward).ToList(), backward: false);
        RunLearnerPasses(learner.Where(i => i.Backward).ToList(), backward: true);
        foreach (var plan in plans)
            if (plan.Optim is OptimStepItem optim) Complete(optim, () => Engine(optim).OptimStep(optim.Parameters));
        foreach (var plan in plans) foreach (var op in plan.After) Complete(op, () => op.Operation(Engine(op)));

        var samples = shared.OfType<SampleItem>().ToList();
        RunSampling(samples);
        foreach (var item in shared.OfType<ComputeLogprobsItem>())
            Complete(item, () =>
            {
                item.Usage = new UsageTotals { PrefillTokens = item.Tokens.Count };
                return (item.Sampler ?? Sampler).ComputeLogprobs(item.Tokens, item.Adapter);
            });

        RunDecode(shared.OfType<DecodeItem>().ToList());

        int done = shared.Count + plans.Sum(p => p.Count);
        lock (_lock)
        {
            _pending -= done;
            _recentCycles.Enqueue(new CycleMetrics(started, clock.Elapsed.TotalSeconds, plans.Count, learner.Count,
                learner.Sum(i => i.Work.Data.Sum(d => (long)d.Length)), plans.Count(p => p.Optim is not null), samples.Count,
                samples.Sum(s => (long)s.Request.NumSamples * s.Request.Params.MaxTokens), _pending));
            while (_recentCycles.Count > 100) _recentCycles.Dequeue();
            if (_pending > 0) _signal.Release();
        }
    }

    static TrainingRun Engine(RunWorkItem item) =>
        item.Run.Engine ?? throw ApiError.Conflict($"run '{item.Run.Id}' is not loaded");

    // One pass per network: LoRA runs share the base network; a full fine-tuning run has its own.
    void RunLearnerPasses(List<LearnerItem> items, bool backward)
    {
        foreach (var group in items.Where(i => i.Run.Engine is not null).GroupBy(i => i.Run.Engine!.Network))
        {
            var batch = group.ToList();
            // A backward pass adds to the gradients chunk by chunk: keep a copy to undo a pass
            // that fails halfway, so no call is ever applied twice or in part.
            var runs = backward ? batch.Select(i => i.Run.Engine!).Distinct().ToList() : [];
            var captured = runs.ToDictionary(r => r, r => r.CaptureGradients());
            try
            {
                var results = LearnerPass.Run(group.Key, batch.Select(i => i.Work).ToArray(), backward);
                for (int i = 0; i < batch.Count; i++) Finish(batch[i], results[i]);
            }
            catch (Exception)
            {
                // Inputs were validated at submission, so this is rare; undo the partial pass and
                // run each call alone so a failure is reported to that call only.
                foreach (var run in runs) run.RestoreGradients(captured[run]);
                foreach (var item in batch)
                {
                    var before = backward ? item.Run.Engine!.CaptureGradients() : null;
                    try { Finish(item, LearnerPass.Run(group.Key, [item.Work], backward)[0]); }
                    catch (Exception e)
                    {
                        if (before is not null) item.Run.Engine!.RestoreGradients(before);
                        Complete(item, () => throw e);
                    }
                    finally { DisposeAll(before); }
                }
            }
            finally
            {
                foreach (var c in captured.Values) DisposeAll(c);
            }
        }
        foreach (var orphan in items.Where(i => i.Run.Engine is null))
            Complete(orphan, () => throw ApiError.Conflict($"run '{orphan.Run.Id}' is not loaded"));
    }

    static void DisposeAll(IReadOnlyList<TorchSharp.torch.Tensor?>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors) t?.Dispose();
    }

    void Finish(LearnerItem item, LearnerResult result)
    {
        item.Usage = new UsageTotals { TrainedTokens = result.Tokens };
        Complete(item, () => result);
    }

    // Sessions on a full fine-tuning checkpoint sample from a network of their own: one batch per network.
    void RunSampling(List<SampleItem> items)
    {
        foreach (var group in items.GroupBy(i => i.Sampler ?? Sampler)) RunSampling(group.Key, group.ToList());
    }

    void RunSampling(Sampler sampler, List<SampleItem> items)
    {
        try
        {
            var results = sampler.SampleBatch(items.Select(i => i.Request).ToArray());
            for (int i = 0; i < items.Count; i++)
            {
                var result = results[i];
                items[i].Usage = new UsageTotals
                {
                    PrefillTokens = items[i].Request.Prompt.Count,
                    SampledTokens = result.Sequences.Sum(s => (long)s.Tokens.Count),
                };
                Complete(items[i], () => result);
            }
        }
        catch (Exception)
        {
            foreach (var item in items) Complete(item, () => sampler.Sample(item.Request));
        }
    }

    // New requests join the running batch of their network (one batched prefill), then the
    // batches step until they are empty, the step budget is spent, or other work arrives (it then
    // joins at the next step).
    void RunDecode(List<DecodeItem> joining)
    {
        var fresh = joining.Where(i => !i.Stream.Cancellation.IsCancellationRequested).ToList();
        foreach (var item in joining.Except(fresh)) { item.Stream.Cancelled(); item.Completion.TrySetResult(item.Stream); }
        foreach (var group in fresh.GroupBy(i => i.Stream.OwnModel))
            Join(group.Key is null ? _decode : OwnDecode(group.Key), group.ToList());
        foreach (var item in fresh) item.Completion.TrySetResult(item.Stream);

        var batches = _ownDecodes.Values.Prepend(_decode).ToList();
        for (int step = 0; step < MaxDecodeStepsPerCycle && batches.Any(b => b.Count > 0); step++)
        {
            if (step > 0 && _signal.CurrentCount > 0) break;
            foreach (var batch in batches.Where(b => b.Count > 0)) Step(batch);
        }
        foreach (var (model, batch) in _ownDecodes.Where(b => b.Value.Count == 0).ToList())
        {
            batch.Dispose();
            _ownDecodes.Remove(model);
        }
    }

    DecodeBatch OwnDecode(PretrainedModel model)
    {
        if (!_ownDecodes.TryGetValue(model, out var batch)) _ownDecodes[model] = batch = new DecodeBatch(model.Network, model.Tokenizer);
        return batch;
    }

    static void Join(DecodeBatch batch, List<DecodeItem> items)
    {
        try
        {
            var rows = batch.Join(items.Select(i => i.Stream.Request).ToArray(), items.Select(i => (object?)i.Stream).ToArray());
            foreach (var item in items) item.Stream.Joined();
            foreach (var row in rows) ((DecodeStream)row.Owner!).Publish(row);
        }
        catch (Exception e)
        {
            foreach (var item in items) item.Stream.Failed(e);
        }
    }

    void Step(DecodeBatch batch)
    {
        var cancelled = batch.Rows.Where(r => ((DecodeStream)r.Owner!).Cancellation.IsCancellationRequested).ToList();
        foreach (var row in cancelled) DecodeBatch.Cancel(row);
        foreach (var stream in cancelled.Select(r => (DecodeStream)r.Owner!).Distinct()) stream.Cancelled();
        try
        {
            foreach (var row in batch.Step()) ((DecodeStream)row.Owner!).Publish(row);
        }
        catch (Exception e)
        {
            // A failed step leaves the cache in an unknown state: every row fails, the batch restarts.
            foreach (var stream in batch.Rows.Select(r => (DecodeStream)r.Owner!).Distinct()) stream.Failed(e);
            batch.Clear();
            CycleFailed?.Invoke(e);
        }
    }

    void Complete(WorkItem item, Func<object> action)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var result = action();
            item.Usage = item.Usage with { ComputeSeconds = item.Usage.ComputeSeconds + clock.Elapsed.TotalSeconds };
            item.Completion.TrySetResult(result);
        }
        catch (Exception e)
        {
            item.Completion.TrySetException(e);
        }
        try { Completed?.Invoke(item); } catch { /* accounting must never take the worker down */ }
    }

    public void Dispose()
    {
        // Wait for the cycle in progress: its tensors belong to models disposed after this.
        _stop.Cancel();
        _thread.Join();
        foreach (var batch in _ownDecodes.Values.Prepend(_decode))
        {
            foreach (var stream in batch.Rows.Select(r => (DecodeStream)r.Owner!).Distinct()) stream.Failed(new ObjectDisposedException("the server is stopping"));
            batch.Dispose();
        }
    }

    /// <summary>What one run contributes to a cycle, in its own order: operations at the head,
    /// its forward/forward_backward calls, one optimizer step, and operations after it.</summary>
    sealed class RunPlan
    {
        public List<RunOperationItem> Before { get; } = [];
        public List<LearnerItem> Learner { get; } = [];
        public OptimStepItem? Optim { get; private set; }
        public List<RunOperationItem> After { get; } = [];
        public int Count => Before.Count + Learner.Count + (Optim is null ? 0 : 1) + After.Count;

        public static RunPlan Take(ScheduledRun run)
        {
            var plan = new RunPlan();
            var queue = run.Queue;
            while (queue.TryPeek(out var head) && head is RunOperationItem op) { plan.Before.Add(op); queue.Dequeue(); }
            while (queue.TryPeek(out var head) && head is LearnerItem learner) { plan.Learner.Add(learner); queue.Dequeue(); }
            if (queue.TryPeek(out var next) && next is OptimStepItem optim) { plan.Optim = optim; queue.Dequeue(); }
            while (queue.TryPeek(out var head) && head is RunOperationItem op) { plan.After.Add(op); queue.Dequeue(); }
            return plan;
        }
    }
}
