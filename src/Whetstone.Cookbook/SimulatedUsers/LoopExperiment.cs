using System.ClientModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.SimulatedUsers;

/// <summary>Settings of the three-arm experiment (docs/results/experiential-loop.md).</summary>
public sealed record LoopExperimentOptions
{
    public IReadOnlyList<string> Arms { get; init; } = ["a", "b", "c"];
    public int Users { get; init; } = 12;
    public int Seed { get; init; } = 1;
    public int Rounds { get; init; } = 12;
    /// <summary>The round from which on the population's preferences are drifted.</summary>
    public int DriftAtRound { get; init; } = 6;
    public int MaxTokens { get; init; } = 64;
    /// <summary>Feedback events per loop iteration.</summary>
    public int EveryFeedback { get; init; } = 24;
    /// <summary>Longest wait for one iteration's training and gate before the next round goes on anyway.</summary>
    public TimeSpan MaxIterationWait { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>Longest a round waits for a canary to decide (its users meanwhile answer extra, uncounted rounds);
    /// zero: rounds go on during a canary (as before the ninth session).</summary>
    public TimeSpan MaxCanaryWait { get; init; } = TimeSpan.FromMinutes(4);
    public int LatencyProbes { get; init; } = 12;
    /// <summary>Users send their stated taste as a system message (<see cref="UserPreferences.Statement"/>).</summary>
    public bool StatePreferences { get; init; }
    public bool EditCorrections { get; init; }
    /// <summary>What concise and detailed mean to the population (<see cref="LengthTaste"/>).</summary>
    public LengthTaste Taste { get; init; } = LengthTaste.SignOff;
    /// <summary>The loop of arms b and c (null: <see cref="ExperientialLoopDemo.DefaultLoop"/>); its trigger is replaced by EveryFeedback.</summary>
    public CreateLoopRequest? Loop { get; init; }
}

/// <summary>One round of one arm: the population's mean hidden satisfaction on name@latest and what
/// the loop was doing.</summary>
public sealed record ArmRound(string Arm, int Round, bool Drifted, double Satisfaction, int CurrentVersion, int FeedbackEvents, string LoopState);

/// <summary>
/// The three-arm experiment against a running server, through the SDK and the OpenAI client only.
/// Each arm deploys a fresh LoRA adapter of the base model (v1 answers as the base model does) and
/// lets the same seeded population use name@latest for the same rounds, drifting at the same round:
/// (a) no loop; (b) a loop whose reward model trains until its first iteration that trains a
/// candidate, and is then frozen (with it, the corrections the loop learns from); (c) the streaming reward model and
/// online RL with gate and canary. Rounds wait while an iteration trains or gates (users keep to
/// rounds, so each arm sees the same rounds whatever the machine's speed), and while a candidate is
/// in its canary, which extra uncounted rounds feed (<see cref="CanaryRoundsAsync"/>); during those waits, and
/// once on the idle server, probe requests time /v1. The arms run at the same time (so a probe during
/// one arm's RL also shares the server with the other arms' users).
/// </summary>
public sealed class LoopExperiment(Uri server, string apiKey, TextWriter output)
{
    public sealed record ArmResult(string Arm, string Deployment, string? LoopId, IReadOnlyList<ArmRound> Rounds, LoopLineage? Lineage,
        RewardModelInfo? RewardModel, IReadOnlyList<double> RlLatencies);

    public sealed record Result(IReadOnlyList<ArmResult> Arms, IReadOnlyList<double> IdleLatencies);

    public async Task<Result> RunAsync(string baseModel, LoopExperimentOptions options, CancellationToken cancellationToken = default)
    {
        using var whetstone = ServiceClient.Connect(server, apiKey);
        var openAi = new OpenAIClient(new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = new Uri(server, "v1") });
        var idle = await ProbeAsync(openAi.GetChatClient(baseModel), options.LatencyProbes, cancellationToken);
        output.WriteLine($"idle /v1 latency: p50 {Percentile(idle, 50):F3} s, p99 {Percentile(idle, 99):F3} s over {idle.Count}");
        // The arms run side by side, each on its own deployment and population: the server batches
        // their requests, and the whole experiment takes about as long as its slowest arm.
        var arms = await Task.WhenAll(options.Arms.Select(arm => RunArmAsync(whetstone, openAi, baseModel, arm, options, cancellationToken)));
        return new Result(arms, idle);
    }

    async Task<ArmResult> RunArmAsync(ServiceClient whetstone, OpenAIClient openAi, string baseModel, string arm, LoopExperimentOptions options,
        CancellationToken cancellationToken)
    {
        if (arm is not ("a" or "b" or "c")) throw new ArgumentException($"arm '{arm}' is not one of a, b, c", nameof(options));
        var clock = Stopwatch.StartNew();
        string name = $"exp-{arm}-{Guid.NewGuid().ToString("N")[..6]}";
        var run = await whetstone.CreateLoraTrainingClientAsync(baseModel, rank: 8, seed: options.Seed, cancellationToken: cancellationToken);
        string v1 = (await (await run.SaveWeightsForSamplerAsync("v1", cancellationToken)).ResultAsync(cancellationToken)).Path;
        await whetstone.Deployments.CreateAsync(name, v1, cancellationToken);
        string? loopId = null;
        if (arm != "a")
        {
            await whetstone.RewardModels.CreateAsync(name, new RewardModelSettings
            {
                BatchEvents = 8, IntervalSeconds = 5, Seed = options.Seed, AutoUpdate = arm == "c",
            }, cancellationToken: cancellationToken);
            var loop = (options.Loop ?? ExperientialLoopDemo.DefaultLoop(name)) with { Deployment = name };
            loop = loop with { Trigger = new LoopTrigger { EveryFeedback = options.EveryFeedback } };
            loopId = (await whetstone.Loops.CreateAsync(loop, cancellationToken)).Id;
        }
        output.WriteLine($"arm {arm}: deployment {name}@v1{(loopId is null ? ", no loop" : $", loop {loopId}")}");

        var population = new SimulatedPopulation(options.Users, options.Seed, options.Taste);
        var round = new SimulationRound(openAi, whetstone, options.MaxTokens, statePreferences: options.StatePreferences, editCorrections: options.EditCorrections);
        var rounds = new List<ArmRound>();
        var rlLatencies = new List<double>();
        bool frozen = false;
        long given = 0;
        for (int r = 0; r < options.Rounds; r++)
        {
            if (r == options.DriftAtRound) population.Drift();
            var answers = await round.RunAsync(population, $"{name}@latest", r, giveFeedback: arm != "a", cancellationToken);
            given += answers.Sum(a => a.FeedbackEvents);
            string state = "none";
            if (loopId is not null)
            {
                await WaitForDueIterationAsync(whetstone, loopId, given, options.EveryFeedback, cancellationToken);
                state = await WaitWhileBusyAsync(whetstone, openAi.GetChatClient($"{name}@latest"), loopId, options.MaxIterationWait, rlLatencies, cancellationToken);
                if (state == "canary" && options.MaxCanaryWait > TimeSpan.Zero)
                    (state, given) = await CanaryRoundsAsync(whetstone, round, population, name, loopId, r, options.MaxCanaryWait, given, cancellationToken);
                if (arm == "b" && !frozen && FreezesArmB(await whetstone.Loops.LineageAsync(loopId, cancellationToken)))
                {
                    // The reward model, and with it the corrections the loop trains on, is as the first trained candidate saw it
                    // (that iteration's catch-up): from now on it is neither updated nor added to.
                    var info = await whetstone.Loops.GetAsync(loopId, cancellationToken);
                    await whetstone.Loops.UpdateAsync(loopId, new UpdateLoopRequest { Rl = info.Rl with { UpdateRewardModel = false } }, cancellationToken);
                    frozen = true;
                }
            }
            int version = (await whetstone.Deployments.GetAsync(name, cancellationToken)).CurrentVersion;
            var point = new ArmRound(arm, r, population.Drifted, answers.Average(a => a.Satisfaction), version, answers.Sum(a => a.FeedbackEvents), state);
            rounds.Add(point);
            output.WriteLine($"arm {arm} round {r,2}{(point.Drifted ? " (drifted)" : "")}: satisfaction {SimulationRound.Format(point.Satisfaction)}, " +
                $"v{version}, feedback {point.FeedbackEvents}, loop {state}  [{clock.Elapsed.TotalSeconds:F0}s]");
        }
        LoopLineage? lineage = null;
        RewardModelInfo? rewardModel = null;
        if (loopId is not null)
        {
            await whetstone.Loops.PauseAsync(loopId, cancellationToken);
            lineage = await whetstone.Loops.LineageAsync(loopId, cancellationToken);
            rewardModel = await whetstone.RewardModels.GetAsync(name, cancellationToken);
            foreach (var i in lineage.Iterations)
                output.WriteLine($"arm {arm} iteration {i.Iteration}: {i.Outcome ?? i.Stage} — {i.FeedbackIds.Count} events → {i.RmVersion ?? "no rm"} → " +
                    $"{(i.DeploymentVersion is { } d ? $"v{d}" : "no version")}; {i.Reason}");
        }
        output.WriteLine($"arm {arm} done in {clock.Elapsed.TotalSeconds:F0} s");
        return new ArmResult(arm, name, loopId, rounds, lineage, rewardModel, rlLatencies);
    }

    /// <summary>Arm b freezes its reward model once an iteration has trained a candidate (has a policy
    /// checkpoint), not after the first iteration: under a loop that trains only on ≥ 32 corrections
    /// the first window held 2, nothing ever trained, and b was a (eighth session).</summary>
    public static bool FreezesArmB(LoopLineage lineage) => lineage.Iterations.Any(i => i.PolicyCheckpoint is not null);

    /// <summary>While the loop's candidate is in its canary, the population goes on using name@latest
    /// in extra rounds (their own questions and seeds, outside the counted rounds' range) with
    /// feedback, until the canary decides or <paramref name="max"/> passes; then the counted rounds
    /// resume. So every arm's round r still asks the same questions with the same seeds, and a loop
    /// gets a whole train–gate–canary cycle per trigger however many rounds a canary would have
    /// spanned (in exp8b one canary took ~75 of the 180 rounds after the drift). Returns the loop's
    /// state and the feedback given so far.</summary>
    async Task<(string State, long Given)> CanaryRoundsAsync(ServiceClient whetstone, SimulationRound round, SimulatedPopulation population, string name,
        string loopId, int counted, TimeSpan max, long given, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        string state = "canary";
        int k = 0;
        for (; state == "canary" && clock.Elapsed < max; k++)
        {
            var answers = await round.RunAsync(population, $"{name}@latest", CanaryRoundBase + 1000 * counted + k, giveFeedback: true, cancellationToken);
            given += answers.Sum(a => a.FeedbackEvents);
            state = (await whetstone.Loops.GetAsync(loopId, cancellationToken)).State;
        }
        output.WriteLine($"{name}: {k} canary rounds after round {counted}, loop {state} after {clock.Elapsed.TotalSeconds:F0} s");
        return (state, given);
    }

    /// <summary>Round r's k-th extra round is 1,000,000 + 1000·r + k: far from the counted rounds and the evaluation rounds (1000+).</summary>
    const int CanaryRoundBase = 1_000_000;

    /// <summary>When the feedback given so far makes an iteration due and the loop is idle, waits (at
    /// most 15 s) for the loop's runner to start it — otherwise the next round would go on before the
    /// iteration it is meant to wait for has begun.</summary>
    static async Task WaitForDueIterationAsync(ServiceClient whetstone, string loopId, long given, int every, CancellationToken cancellationToken)
    {
        var info = await whetstone.Loops.GetAsync(loopId, cancellationToken);
        if (info.State != "idle" || given - info.FeedbackConsumed < every) return;
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(15); await Task.Delay(250, cancellationToken))
        {
            var now = await whetstone.Loops.GetAsync(loopId, cancellationToken);
            if (now.State != "idle" || now.Iteration != info.Iteration) return;
        }
    }

    /// <summary>Waits while the loop trains or gates (at most <paramref name="max"/>), timing a probe
    /// request about every half second meanwhile; returns the state it left the loop in.</summary>
    static async Task<string> WaitWhileBusyAsync(ServiceClient whetstone, ChatClient chat, string loopId, TimeSpan max, List<double> latencies,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var state = (await whetstone.Loops.GetAsync(loopId, cancellationToken)).State;
            if (state is not ("training" or "gating") || clock.Elapsed > max) return state;
            latencies.AddRange(await ProbeAsync(chat, 1, cancellationToken));
            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>Wall seconds of <paramref name="count"/> chat completions of a fixed question, one after another.</summary>
    static async Task<List<double>> ProbeAsync(ChatClient chat, int count, CancellationToken cancellationToken)
    {
        var seconds = new List<double>();
        for (int i = 0; i < count; i++)
        {
            var clock = Stopwatch.StartNew();
            await chat.CompleteChatAsync([new UserChatMessage("What is 47 + 38?")],
                new ChatCompletionOptions { MaxOutputTokenCount = 64, Temperature = 0.7f, EndUserId = "latency-probe" }, cancellationToken);
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        return seconds;
    }

    /// <summary>The nearest-rank percentile (p99 of a few dozen values is their maximum).</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    /// <summary>Writes rounds.jsonl (one line per round, satisfaction per arm and its 3-round running
    /// mean), prequential.jsonl (per arm and reward-model version), iterations.jsonl and
    /// summary.json under <paramref name="directory"/>; the charts are drawn from them.</summary>
    public static void Write(Result result, string directory)
    {
        Directory.CreateDirectory(directory);
        int rounds = result.Arms.Max(a => a.Rounds.Count);
        using (var file = new StreamWriter(Path.Combine(directory, "rounds.jsonl")))
            for (int r = 0; r < rounds; r++)
            {
                var line = new Dictionary<string, object?> { ["round"] = r };
                foreach (var arm in result.Arms.Where(a => r < a.Rounds.Count))
                {
                    line[$"satisfaction_{arm.Arm}"] = Round(arm.Rounds[r].Satisfaction);
                    line[$"mean3_{arm.Arm}"] = Round(arm.Rounds.Skip(Math.Max(0, r - 2)).Take(Math.Min(3, r + 1)).Average(x => x.Satisfaction));
                    line[$"version_{arm.Arm}"] = arm.Rounds[r].CurrentVersion;
                    line["drifted"] = arm.Rounds[r].Drifted;
                }
                file.WriteLine(JsonSerializer.Serialize(line));
            }
        using (var file = new StreamWriter(Path.Combine(directory, "prequential.jsonl")))
            foreach (var arm in result.Arms.Where(a => a.RewardModel is not null))
                foreach (var p in arm.RewardModel!.Prequential)
                    file.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["arm"] = arm.Arm, ["version"] = p.Version, ["predicted"] = p.Predicted, [$"accuracy_{arm.Arm}"] = Round(p.Accuracy),
                        [$"cumulative_accuracy_{arm.Arm}"] = Round(p.CumulativeAccuracy), ["cumulative_predicted"] = p.CumulativePredicted,
                    }));
        using (var file = new StreamWriter(Path.Combine(directory, "iterations.jsonl")))
            foreach (var arm in result.Arms.Where(a => a.Lineage is not null))
                foreach (var i in arm.Lineage!.Iterations)
                    file.WriteLine(JsonSerializer.Serialize(new { arm = arm.Arm, i.Iteration, i.Outcome, i.Reason, i.RmVersion, i.DeploymentVersion, events = i.FeedbackIds.Count, i.Metrics }));
        var all = result.Arms.SelectMany(a => a.RlLatencies).ToArray();
        var summary = new Dictionary<string, object?>
        {
            ["idle_p50_s"] = Round(Percentile(result.IdleLatencies, 50)), ["idle_p99_s"] = Round(Percentile(result.IdleLatencies, 99)), ["idle_n"] = result.IdleLatencies.Count,
            ["rl_p50_s"] = Round(Percentile(all, 50)), ["rl_p99_s"] = Round(Percentile(all, 99)), ["rl_n"] = all.Length,
        };
        foreach (var arm in result.Arms)
        {
            summary[$"{arm.Arm}_before_drift"] = Round(arm.Rounds.Where(r => !r.Drifted).Average(r => r.Satisfaction));
            summary[$"{arm.Arm}_after_drift"] = Round(arm.Rounds.Where(r => r.Drifted).DefaultIfEmpty(arm.Rounds[^1]).Average(r => r.Satisfaction));
            if (arm.Lineage is { } l)
                foreach (var outcome in l.Iterations.GroupBy(i => i.Outcome ?? "unfinished"))
                    summary[$"{arm.Arm}_{outcome.Key}"] = outcome.Count();
        }
        File.WriteAllText(Path.Combine(directory, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
    }

    static double? Round(double x) => double.IsFinite(x) ? Math.Round(x, 4) : null;
}
