using System.Diagnostics;
using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;
using Whetstone.Service.Serving;

namespace Whetstone.Service.Loops;

/// <summary>Advances one loop through its state machine, from whatever state the store says it is
/// in (so a restarted server carries on): idle → (trigger) training → gating → canary → idle. The
/// feedback window of an iteration is fixed when it starts, in the same transaction that moves the
/// loop to training; the loop's cursor moves past it only in the transaction that finishes the
/// iteration. A server stopped mid-iteration therefore redoes that iteration on the same window:
/// no event is lost and none is counted twice.</summary>
internal sealed class LoopIterationJob(ServiceContext context, TrainingRunService runs, SamplingSessionService sessions,
    DeploymentService deployments, IDeploymentRewardModel rewardModel)
{
    /// <summary>Feedback younger than this is left for the next window: a write that took its
    /// timestamp earlier may still be committing, and the cursor must never pass it.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    sealed class PausedException() : Exception("the loop was paused");

    public async Task AdvanceAsync(LoopRecord loop, CancellationToken cancellationToken)
    {
        var spec = LoopSpec.FromJson(loop.SpecJson);
        var caller = new Caller(loop.Tenant, "loop:" + loop.Id, IsAdmin: false);
        var iteration = loop.State == "idle" ? null : (await context.Store.ListLoopIterationsAsync(loop.Id)).LastOrDefault();
        if (loop.Status != "active")
        {
            if (iteration is not null) await FinishAsync(iteration, "aborted", "the loop was paused; its window is used again on resume", consumed: false);
            return;
        }
        try
        {
            if (iteration is null)
            {
                iteration = await TryStartAsync(loop, spec);
                if (iteration is null) return;
            }
            if (iteration.Stage == "training") iteration = await TrainAsync(loop, spec, caller, iteration, cancellationToken);
            if (iteration.Stage == "gating") iteration = await GateAsync(loop, spec, caller, iteration, cancellationToken);
            if (iteration.Stage == "canary") await CanaryAsync(loop, spec, iteration);
        }
        catch (PausedException)
        {
            await FinishAsync(iteration!, "aborted", "the loop was paused; its window is used again on resume", consumed: false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && iteration is not null)
        {
            // Consumed: a window that fails (say, a deployment without served prompts) must not be retried forever.
            await FinishAsync(iteration, "failed", e.Message, consumed: true);
        }
    }

    async Task<LoopIterationRecord?> TryStartAsync(LoopRecord loop, LoopSpec spec)
    {
        var now = DateTimeOffset.UtcNow;
        var window = await context.Store.ListDeploymentFeedbackAsync(loop.Tenant, loop.Deployment, loop.FeedbackCursor, now - Settle, 100_000);
        bool byCount = spec.Trigger.EveryFeedback is { } n && window.Count >= n;
        bool byTime = spec.Trigger.EveryMinutes is { } m && window.Count > 0 && now - (loop.LastIterationAt ?? loop.CreatedAt) >= TimeSpan.FromMinutes(m);
        if (!byCount && !byTime) return null;
        var deployment = await context.Store.GetDeploymentAsync(loop.Tenant, loop.Deployment);
        if (deployment is null || deployment.CurrentVersion == 0) return null;
        var iteration = new LoopIterationRecord(loop.Id, loop.Iteration + 1, now)
        {
            WindowEnd = window[^1].Feedback.Id,
            FeedbackIdsJson = JsonSerializer.Serialize(window.Select(w => w.Feedback.Id).ToArray()),
            DeployedVersion = deployment.CurrentVersion,
            MetricsJson = JsonSerializer.Serialize(new Dictionary<string, double> { ["window_events"] = window.Count }),
        };
        return await context.Store.StartLoopIterationAsync(loop, iteration) ? iteration : null;
    }

    async Task<LoopIterationRecord> TrainAsync(LoopRecord loop, LoopSpec spec, Caller caller, LoopIterationRecord iteration, CancellationToken cancellationToken)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var (deployedPath, baseModel) = await DeployedAsync(loop, iteration.DeployedVersion);
        var completions = await context.Store.ListDeploymentCompletionsAsync(loop.Tenant, loop.Deployment, spec.Rl.PromptWindow);
        var train = completions.Select(Prompt).Where(p => !IsHeldOut(p)).ToArray();
        if (train.Length == 0) throw new InvalidOperationException($"deployment '{loop.Deployment}' has no served prompts outside the held-out share to train on");

        var sampling = new LoopSampling(context, sessions, caller, baseModel, cancellationToken);
        var reward = new LoopReward(rewardModel, spec.Rl, sampling.Text, caller, loop.Deployment);
        if ((spec.Rl.RmWeight > 0 || spec.Rl.CorrectionSftWeight > 0) && spec.Rl.UpdateRewardModel) await rewardModel.CatchUpAsync(caller, loop.Deployment, cancellationToken);
        var corrections = spec.Rl.CorrectionSftWeight > 0 ? await rewardModel.TrainedCorrectionsAsync(caller, loop.Deployment, cancellationToken) : [];
        var windowMetrics = new Dictionary<string, double>();
        if (spec.Rl.CorrectionWindowPolicy == LoopRlSettings.CorrectionWindowAdaptive)
            corrections = await AfterDriftAsync(loop, iteration, corrections, windowMetrics);
        var run = await runs.CreateFromSamplerWeightsAsync(caller, deployedPath,
            new Dictionary<string, string> { ["loop"] = loop.Id, ["iteration"] = iteration.Iteration.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        iteration = iteration with { CandidateRun = run.RunId };
        await context.Store.UpdateLoopIterationAsync(iteration, "training");

        var trainer = new LoopTrainer(context, runs, sampling, reward, caller);
        var result = await trainer.TrainAsync(deployedPath, train, spec.Rl, run.RunId, iteration.Iteration, () => CheckActiveAsync(loop.Id), cancellationToken,
            corrections);
        var metrics = Metrics(iteration);
        foreach (var (k, v) in result.Metrics) metrics[k] = v;
        foreach (var (k, v) in windowMetrics) metrics[k] = v;
        RecordTrust(metrics, reward, "train");
        metrics["train_prompts"] = train.Length;
        metrics["train_cpu_seconds"] = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        metrics["train_wall_seconds"] = wall.Elapsed.TotalSeconds;
        if (metrics.GetValueOrDefault("trained") == 0)
        {
            // Every step had nothing to train on: the candidate is the deployed policy, not worth a gate (which costs minutes of CPU).
            iteration = iteration with { MetricsJson = JsonSerializer.Serialize(metrics), RmVersion = reward.RmVersion };
            await FinishAsync(iteration, "rejected", $"nothing to train on: {metrics.GetValueOrDefault("corrections_available")} corrections " +
                $"(at least {spec.Rl.MinCorrections} needed), {(metrics.GetValueOrDefault("rl_sampled") == 0 ? "no reward that can differ between answers" : "no sampled group with a reward spread")}", consumed: true);
            return iteration with { Stage = "done" };
        }
        iteration = iteration with
        {
            Stage = "gating", PolicyCheckpoint = result.PolicyCheckpoint, RmVersion = reward.RmVersion, MetricsJson = JsonSerializer.Serialize(metrics),
        };
        await context.Store.UpdateLoopIterationAsync(iteration, "gating");
        return iteration;
    }

    async Task<LoopIterationRecord> GateAsync(LoopRecord loop, LoopSpec spec, Caller caller, LoopIterationRecord iteration, CancellationToken cancellationToken)
    {
        await CheckActiveAsync(loop.Id);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var (deployedPath, baseModel) = await DeployedAsync(loop, iteration.DeployedVersion);
        var completions = await context.Store.ListDeploymentCompletionsAsync(loop.Tenant, loop.Deployment, spec.Rl.PromptWindow);
        var heldOut = completions.Select(Prompt).Where(IsHeldOut).ToArray();
        var sampling = new LoopSampling(context, sessions, caller, baseModel, cancellationToken);
        var reward = new LoopReward(rewardModel, spec.Rl, sampling.Text, caller, loop.Deployment);
        var verdict = await new LoopGate(sampling, reward).JudgeAsync(iteration.PolicyCheckpoint!, deployedPath, heldOut, spec.Gate, cancellationToken);
        var metrics = Metrics(iteration);
        foreach (var (k, v) in verdict.Metrics) metrics[k] = v;
        RecordTrust(metrics, reward, "gate");
        metrics["gate_cpu_seconds"] = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        iteration = iteration with { MetricsJson = JsonSerializer.Serialize(metrics), RmVersion = iteration.RmVersion ?? reward.RmVersion };
        if (!verdict.Passed)
        {
            await FinishAsync(iteration, "rejected", "gate: " + verdict.Reason, consumed: true);
            return iteration with { Stage = "done" };
        }
        await CheckActiveAsync(loop.Id);
        // The version is recorded before the split points at it, so a restart here adds no second version.
        if (iteration.DeploymentVersion is null)
        {
            iteration = iteration with { DeploymentVersion = await deployments.AddCandidateAsync(caller, loop.Deployment, iteration.PolicyCheckpoint!) };
            await context.Store.UpdateLoopIterationAsync(iteration, "gating");
        }
        int version = iteration.DeploymentVersion.Value;
        if (spec.Canary.Percent == 0)
        {
            await context.Store.SetDeploymentVersionAsync(loop.Tenant, loop.Deployment, version);
            await FinishAsync(iteration, "promoted", $"gate: {verdict.Reason}; no canary", consumed: true);
            return iteration with { Stage = "done" };
        }
        metrics["canary_started_unix_ms"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        iteration = iteration with { Stage = "canary", Reason = "gate: " + verdict.Reason, MetricsJson = JsonSerializer.Serialize(metrics) };
        await context.Store.SetDeploymentTrafficAsync(loop.Tenant, loop.Deployment, version, spec.Canary.Percent);
        await context.Store.UpdateLoopIterationAsync(iteration, "canary");
        return iteration;
    }

    /// <summary>The adaptive correction window (<see cref="AdaptiveCorrectionWindow"/>): the corrections
    /// given after the newest drift cut in the deployment's feedback through this iteration's window
    /// (the same events whenever the iteration is redone). Metrics: drift_cut (1 when a change was
    /// found), drift_cut_version and drift_cut_events_after (the events from the cut through the
    /// window), corrections_before_cut (left out).</summary>
    async Task<IReadOnlyList<CorrectionExample>> AfterDriftAsync(LoopRecord loop, LoopIterationRecord iteration, IReadOnlyList<CorrectionExample> corrections,
        Dictionary<string, double> metrics)
    {
        var events = (await context.Store.ListDeploymentFeedbackAsync(loop.Tenant, loop.Deployment, null, iteration.StartedAt, 10_000_000)).ToList();
        int end = events.FindLastIndex(e => e.Feedback.Id == iteration.WindowEnd);
        if (end >= 0) events.RemoveRange(end + 1, events.Count - end - 1);
        var cut = AdaptiveCorrectionWindow.Find(events);
        var kept = AdaptiveCorrectionWindow.After(corrections, events, cut);
        metrics["drift_cut"] = cut is null ? 0 : 1;
        if (cut is not null)
        {
            if (int.TryParse(cut.Version[(cut.Version.LastIndexOf("@v", StringComparison.Ordinal) + 2)..], System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out int version))
                metrics["drift_cut_version"] = version;
            metrics["drift_cut_events_after"] = events.Count - cut.Index;
        }
        metrics["corrections_before_cut"] = corrections.Count - kept.Count;
        return kept;
    }

    /// <summary>The canary's decision (<see cref="CanaryDecision"/>) on the events since it began, each
    /// with the user the completion log holds for its answer: promote, roll back, or nothing yet.</summary>
    async Task CanaryAsync(LoopRecord loop, LoopSpec spec, LoopIterationRecord iteration)
    {
        var metrics = Metrics(iteration);
        var started = DateTimeOffset.FromUnixTimeMilliseconds((long)metrics["canary_started_unix_ms"]);
        var events = (await context.Store.ListDeploymentFeedbackAsync(loop.Tenant, loop.Deployment, iteration.WindowEnd, DateTimeOffset.UtcNow, 1_000_000))
            .Where(e => e.Feedback.CreatedAt >= started && e.Arm is not null).ToArray();
        string candidateName = $"{loop.Deployment}@v{iteration.DeploymentVersion}";
        var arms = events.Where(e => e.Arm == CanaryRouting.Stable || (e.Arm == CanaryRouting.Candidate && e.Deployment == candidateName))
            .Select(e => new CanaryEvent(e.Arm!, e.User, Satisfaction(e.Feedback))).ToArray();
        var decision = CanaryDecision.Decide(arms, spec.Canary, DateTimeOffset.UtcNow - started);
        if (decision.Decision == CanaryDecision.Outcome.Wait) return;
        int candidate = arms.Count(e => e.Arm == CanaryRouting.Candidate), stable = arms.Length - candidate;
        if (candidate > 0) metrics["canary_candidate_rate"] = decision.CandidateRate;
        if (stable > 0) metrics["canary_stable_rate"] = decision.StableRate;
        metrics["canary_candidate_events"] = candidate;
        metrics["canary_stable_events"] = stable;
        if (spec.Canary.Compare == LoopCanarySettings.CompareWithinUser) metrics["canary_users"] = decision.Users;
        if (!double.IsNaN(decision.Difference)) metrics["canary_difference"] = decision.Difference;
        metrics["canary_seconds"] = (DateTimeOffset.UtcNow - started).TotalSeconds;
        iteration = iteration with { MetricsJson = JsonSerializer.Serialize(metrics) };
        await CheckActiveAsync(loop.Id);
        string why = $"{iteration.Reason}; canary: {decision.Reason}";
        if (decision.Decision == CanaryDecision.Outcome.Promote)
        {
            await context.Store.PromoteDeploymentCandidateAsync(loop.Tenant, loop.Deployment);
            await FinishAsync(iteration, "promoted", why, consumed: true);
        }
        else
        {
            await context.Store.SetDeploymentTrafficAsync(loop.Tenant, loop.Deployment, null, 0);
            await FinishAsync(iteration, "rolled_back", why, consumed: true);
        }
    }

    /// <summary>thumbs up 1, down 0, rating (r − 1)/4, correction 0 (the answer needed fixing), preferred 1.</summary>
    public static double Satisfaction(FeedbackRecord f) => f.Kind switch
    {
        "thumbs_up" or "preference" => 1,
        "rating" => ((f.Rating ?? 1) - 1) / 4,
        _ => 0,
    };

    /// <summary>About a fifth of the distinct prompts a deployment serves are held out: the gate judges
    /// on them, training never samples them. By a stable hash of the prompt itself (its tokens as
    /// served), not of the completion: the same prompt served twice is always on the same side (by
    /// completion id it could be in both, leaking into training what the gate judges on), and the
    /// split is the same in every process and on every machine.</summary>
    public static bool IsHeldOut(IReadOnlyList<int> prompt) => StableHash.Of("held-out\n" + string.Join(',', prompt)) % 5 == 0;

    /// <summary>Whether this stage used the reward model's score (1/0) and the accuracy it judged that on.</summary>
    static void RecordTrust(Dictionary<string, double> metrics, LoopReward reward, string stage)
    {
        if (reward.RmTrusted is not { } trusted) return;
        metrics[$"{stage}_rm_trusted"] = trusted ? 1 : 0;
        if (!double.IsNaN(reward.RmAccuracy)) metrics[$"{stage}_rm_accuracy"] = reward.RmAccuracy;
    }

    static IReadOnlyList<int> Prompt(ServedCompletionRecord c) => JsonSerializer.Deserialize<int[]>(c.PromptTokensJson)!;

    static Dictionary<string, double> Metrics(LoopIterationRecord iteration) =>
        iteration.MetricsJson is null ? [] : JsonSerializer.Deserialize<Dictionary<string, double>>(iteration.MetricsJson)!;

    async Task<(string Path, string BaseModel)> DeployedAsync(LoopRecord loop, int version)
    {
        var versions = await context.Store.ListDeploymentVersionsAsync(loop.Tenant, loop.Deployment);
        var record = versions.FirstOrDefault(v => v.Version == version)
            ?? throw new InvalidOperationException($"deployment '{loop.Deployment}' has no version {version}");
        var checkpoint = await context.Store.GetCheckpointAsync(record.CheckpointPath)
            ?? throw new InvalidOperationException($"the deployed checkpoint {record.CheckpointPath} was deleted");
        var run = await context.Store.GetRunAsync(checkpoint.RunId) ?? throw new InvalidOperationException($"run {checkpoint.RunId} is gone");
        return (record.CheckpointPath, run.BaseModel);
    }

    async Task CheckActiveAsync(string loopId)
    {
        var loop = await context.Store.GetLoopAsync(loopId);
        if (loop is null || loop.Status != "active") throw new PausedException();
    }

    Task FinishAsync(LoopIterationRecord iteration, string outcome, string reason, bool consumed) =>
        context.Store.FinishLoopIterationAsync(iteration with { Stage = "done", Outcome = outcome, Reason = reason, FinishedAt = DateTimeOffset.UtcNow }, consumed);
}
