using System.Diagnostics;
using Whetstone.Engine.Lora;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Worker;

// Executing one cycle's plan: the planner decided what; this is how, with tensors.
public sealed partial class EngineWorker
{
    // Learner seconds exclude the decode steps run between chunks.
    readonly Stopwatch _learnerPhase = new();
    double _learnerSeconds, _decodeSeconds;
    int _decodeSteps, _stepsBetweenChunks, _joinedMidCycle;
    long _decodedTokens;

    CycleReport Execute(CyclePlan plan)
    {
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        _learnerSeconds = _decodeSeconds = 0;
        _decodeSteps = _stepsBetweenChunks = _joinedMidCycle = 0;
        _decodedTokens = 0;

        foreach (var op in plan.Before) Complete(op, () => op.Operation.Execute(RunOf(op)));
        _learnerPhase.Restart();
        foreach (var pass in plan.LearnerPasses) RunLearnerPass(pass, plan.Decode);
        foreach (var optim in plan.OptimSteps) Complete(optim, () => RunOf(optim).OptimStep(optim.Parameters));
        _learnerSeconds = _learnerPhase.Elapsed.TotalSeconds - _decodeSeconds;
        foreach (var op in plan.After) Complete(op, () => op.Operation.Execute(RunOf(op)));
        foreach (var call in plan.Logprobs)
            Complete(call, () =>
            {
                var sampler = call.ModelKey is null ? _baseSampler : FullModelOf(call.ModelKey).Sampler;
                if (call.PrefixKey is { } key && call.AdapterKey is null && call.ModelKey is null && call.Images.Count == 0)
                {
                    var reused = sampler.ComputeLogprobs(call.Tokens, _prefixes, key, call.KeepPrefix, call.ReuseAlsoFrom);
                    call.Usage = new CallUsage { PrefillTokens = reused.PrefilledTokens(call.Tokens.Count), ReusedPrefixTokens = reused.ReusedTokens };
                    return reused.Logprobs;
                }
                call.Usage = new CallUsage { PrefillTokens = call.Tokens.Count };
                return sampler.ComputeLogprobs(call.Tokens, AdapterOf(call.AdapterKey), call.Images);
            });
        Join(plan.Joining);
        Decode(plan.Decode, afterLearner: true);
        return new CycleReport(plan, started, clock.Elapsed.TotalSeconds, _learnerSeconds, _decodeSeconds, _decodeSteps, _decodedTokens)
        {
            DecodeStepsBetweenChunks = _stepsBetweenChunks,
            JoinedMidCycle = _joinedMidCycle,
        };
    }

    TrainingRun RunOf(RunCall call) =>
        _runs.TryGetValue(call.RunId, out var entry) ? entry.Run : throw new RunNotLoadedException(call.RunId);

    LoraAdapter? AdapterOf(string? key) =>
        key is null ? null : _adapters.TryGetValue(key, out var a) ? a : throw new InvalidOperationException($"adapter '{key}' is not loaded");

    FullModel FullModelOf(string key) =>
        _fullModels.TryGetValue(key, out var m) ? m : throw new InvalidOperationException($"model '{key}' is not loaded");

    // ---- decoding ----

    void Join(IReadOnlyList<DecodeCall> joining)
    {
        var resolved = new List<(DecodeCall Call, SampleRequest Request, DecodeLoop Loop)>();
        foreach (var call in joining)
        {
            try
            {
                var loop = call.ModelKey is null ? _decode : FullModelOf(call.ModelKey).Decode;
                resolved.Add((call, call.Request with { Adapter = AdapterOf(call.AdapterKey) }, loop));
            }
            catch (Exception e)
            {
                call.Stream?.End(e);
                Complete(call, () => throw e);
            }
        }
        var clock = Stopwatch.StartNew();
        // Live calls prefill on their own, first: their first token must not wait for a batch of rollouts' prompts.
        foreach (var group in resolved.GroupBy(x => (x.Loop, x.Call.Priority)).OrderBy(g => g.Key.Priority))
            group.Key.Loop.Join(group.Select(x => (x.Call, x.Request)).ToArray());
        _decodeSeconds += clock.Elapsed.TotalSeconds;
    }

    IEnumerable<DecodeLoop> Loops => _fullModels.Values.Select(f => f.Decode).Prepend(_decode);

    /// <summary>Decode steps for this cycle. Decoding is owed share / (1 − share) of the learner's
    /// time (the live share while a live call decodes); between learner chunks it gets what is
    /// owed so far, and after the learner work the rest, at least <see cref="DecodeBudget.MinSteps"/>
    /// steps, and up to <see cref="DecodeBudget.IdleSteps"/> while nothing else waits.</summary>
    void Decode(DecodeBudget budget, bool afterLearner)
    {
        int steps = 0;
        while (true)
        {
            var joining = _planner.TakeJoining(Load());
            if (joining.Count > 0)
            {
                _joinedMidCycle += joining.Count;
                Join(joining);
            }
            if (!Decoding) break;
            double share = Loops.Any(l => l.HasLive) ? budget.LiveShare : budget.BatchShare;
            double owed = share / (1 - share) * _learnerSeconds - _decodeSeconds;
            bool more = owed > 0 || (afterLearner && (steps < budget.MinSteps || (steps < budget.IdleSteps && !_planner.HasWaitingWork)));
            if (!more) break;
            var clock = Stopwatch.StartNew();
            foreach (var loop in Loops.ToList())
            {
                try { _decodedTokens += loop.Step(); }
                catch (Exception e) { CycleFailed?.Invoke(e); }   // the loop failed its rows and restarted
            }
            _decodeSeconds += clock.Elapsed.TotalSeconds;
            _decodeSteps++;
            if (!afterLearner) _stepsBetweenChunks++;
            steps++;
        }
    }

    // ---- learner passes ----

    // LoRA runs share the base network; a full fine-tuning run has its own. A backward pass adds
    // to the gradients chunk by chunk: a copy is kept to undo a pass that fails halfway, so no
    // call is ever applied twice or in part.
    void RunLearnerPass(LearnerPassPlan pass, DecodeBudget budget)
    {
        var loaded = pass.Calls.Where(c => _runs.ContainsKey(c.RunId)).ToList();
        foreach (var orphan in pass.Calls.Except(loaded)) Complete(orphan, () => throw new RunNotLoadedException(orphan.RunId));
        if (loaded.Count == 0) return;
        var network = RunOf(loaded[0]).Network;
        var runs = pass.Backward ? loaded.Select(RunOf).Distinct().ToList() : [];
        var captured = runs.ToDictionary(r => r, r => r.CaptureGradients());
        void BetweenChunks()
        {
            _learnerSeconds = _learnerPhase.Elapsed.TotalSeconds - _decodeSeconds;
            Decode(budget, afterLearner: false);
        }
        try
        {
            var results = LearnerPass.Run(network, loaded.Select(Work).ToArray(), pass.Backward, budget.LearnerTokensPerChunk, BetweenChunks);
            for (int i = 0; i < loaded.Count; i++) Finish(loaded[i], results[i]);
        }
        catch (Exception)
        {
            // Inputs were validated at submission, so this is rare; undo the partial pass and run
            // each call alone so a failure is reported to that call only.
            foreach (var run in runs) run.RestoreGradients(captured[run]);
            foreach (var call in loaded)
            {
                var before = pass.Backward ? RunOf(call).CaptureGradients() : null;
                try { Finish(call, LearnerPass.Run(network, [Work(call)], pass.Backward, budget.LearnerTokensPerChunk)[0]); }
                catch (Exception e)
                {
                    if (before is not null) RunOf(call).RestoreGradients(before);
                    Complete(call, () => throw e);
                }
                finally { DisposeAll(before); }
            }
        }
        finally
        {
            foreach (var c in captured.Values) DisposeAll(c);
        }
    }

    LearnerWork Work(LearnerCall call) =>
        new(RunOf(call).Adapter, call.Data) { Loss = call.Loss, LogprobGradients = call.LogprobGradients };

    void Finish(LearnerCall call, LearnerResult result)
    {
        call.Usage = new CallUsage { TrainedTokens = result.Tokens };
        Complete(call, () => result);
    }

    static void DisposeAll(IReadOnlyList<Tensor?>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors) t?.Dispose();
    }

    void Complete(WorkerCall call, Func<object> action)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var result = action();
            call.Usage = call.Usage with { ComputeSeconds = call.Usage.ComputeSeconds + clock.Elapsed.TotalSeconds };
            call.Completion.TrySetResult(result);
        }
        catch (Exception e)
        {
            call.Completion.TrySetException(e);
        }
        try { Completed?.Invoke(call); } catch { /* accounting must never take the worker down */ }
    }
}

/// <summary>A call named a run this worker does not hold (never created here, or lost in a restart).</summary>
public sealed class RunNotLoadedException(string runId) : InvalidOperationException($"run '{runId}' is not loaded")
{
    public string RunId { get; } = runId;
}
