using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Whetstone.Client;
using Whetstone.Cookbook.Recipes;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Rl;

/// <summary>
/// RL through the SDK (`whet train rl`): each step samples G episodes per problem from the
/// current sampler weights, scores them with the env, trains on group-centred advantages
/// (<see cref="RlTrainer"/>) and publishes new sampler weights. Synchronous by default; with
/// <see cref="RlOptions.Async"/> the next batch is sampled while the current one trains, from
/// weights at most <see cref="RlOptions.MaxStepsOffPolicy"/> steps old. Logs metrics.jsonl per
/// step (reward, accuracy, kl_sample_train, entropy, tokens/s, staleness), greedy held-out evals,
/// reward and eval curves; saves its state every N steps and resumes from it when rerun.
/// </summary>
public static class RlRecipe
{
    /// <summary>Samples per held-out problem for the sampled-accuracy eval.</summary>
    public const int EvalSamplesPerProblem = 4;

    /// <summary>RL on the env named by <see cref="RlOptions.Env"/>, rendered for the model's tokenizer.</summary>
    public static Task<RlResult> RunAsync(ServiceClient client, HuggingFaceTokenizer tokenizer, RlOptions options, Action<string> log,
        CancellationToken cancellationToken = default) =>
        RunAsync(client, RlEnvironments.Create(options, RendererFactory.For(tokenizer)), options, log, cancellationToken);

    /// <summary>RL on the problems of <paramref name="source"/> (any env).</summary>
    public static async Task<RlResult> RunAsync(ServiceClient client, IProblemSource source, RlOptions options, Action<string> log,
        CancellationToken cancellationToken = default)
    {
        if (options.Async && options.MaxStepsOffPolicy < 0) throw new ArgumentException($"max steps off-policy {options.MaxStepsOffPolicy} is negative");
        if (options.TisCap is double cap && (options.LossFn != "importance_sampling" || !(cap > 0) || !double.IsFinite(cap)))
            throw new ArgumentException($"tis cap {cap}: truncated importance sampling caps importance_sampling's ratios (the loss is {options.LossFn}) at a positive finite number");
        if (options.GroupSize < 2) throw new ArgumentException($"group size {options.GroupSize}: advantages are centred within a group, so it needs at least 2");
        Directory.CreateDirectory(options.OutputDirectory);
        var dataset = new ProblemDataset(source, options.GroupsPerBatch, options.GroupSize, options.Seed);
        var heldOut = options.EvalEvery > 0 ? ProblemDataset.HeldOut(source, options.EvalCount, options.Seed) : [];

        var progress = RecipeProgress.Load(options.OutputDirectory);
        var run = progress is not null
            ? await client.CreateTrainingClientFromStateAsync(progress.StatePath, withOptimizer: true, cancellationToken: cancellationToken)
            : options.InitFrom is not null
                ? await InitFromAsync(client, options, cancellationToken)
                : await client.CreateTrainingClientAsync(new CreateTrainingRunRequest(options.BaseModel)
                {
                    Rank = options.Rank, FullFineTuning = options.FullFineTuning, Seed = options.Seed, TrainMlp = options.TrainMlp,
                }, cancellationToken);
        if (progress is not null) log($"resumed from {progress.StatePath} at step {progress.Step}");
        else if (options.InitFrom is not null) log($"initialised from {options.InitFrom}");
        int first = progress?.Step ?? 0;

        var reference = options.KlPenalty > 0 ? await client.CreateSamplingClientAsync(baseModel: options.BaseModel, cancellationToken: cancellationToken) : null;
        var trainer = new RlTrainer(run, options, reference);
        var rest = client.CreateRestClient();
        var samplerPath = (await (await run.SaveWeightsForSamplerAsync($"rl-step-{first}", cancellationToken)).ResultAsync(cancellationToken)).Path;
        // A superseded sampler's session is closed once no batch samples from it: the server then
        // frees its adapter or, for full fine-tuning, its whole model.
        var samplers = new SamplerVersions<SamplingClient>(await client.CreateSamplingClientAsync(modelPath: samplerPath, cancellationToken: cancellationToken), first,
            sampler => sampler.CloseAsync(CancellationToken.None));
        var sampling = new SamplingParams { MaxTokens = options.MaxTokens, Temperature = options.Temperature };

        var metricsPath = Path.Combine(options.OutputDirectory, "metrics.jsonl");
        KeepRecordsUpTo(metricsPath, first);
        double secondsBefore = LastValue(metricsPath, "seconds");
        using var metrics = new StreamWriter(metricsPath, append: true);
        var clock = Stopwatch.StartNew();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        RlEvalReport? initialEval = null, finalEval = null;

        async Task WriteAsync(Dictionary<string, double> record)
        {
            record["seconds"] = secondsBefore + clock.Elapsed.TotalSeconds;
            record["cpu_seconds"] = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds;
            await metrics.WriteLineAsync(JsonSerializer.Serialize(record));
            await metrics.FlushAsync(cancellationToken);
            // The same numbers on the server, where the web console draws the run's reward and eval curves.
            await run.RecordMetricsAsync((long)record["step"], record.Where(m => m.Key is not ("step" or "seconds" or "cpu_seconds") && double.IsFinite(m.Value)).ToDictionary(), cancellationToken);
        }

        async Task<RlEvalReport> EvaluateAsync(int step, Dictionary<string, double> record)
        {
            var sampler = samplers.Latest.Sampler;
            var report = await RlEvaluation.RunAsync(sampler, heldOut, options.MaxTokens, cancellationToken: cancellationToken);
            record["eval_accuracy"] = report.Accuracy;
            record["eval_reward"] = report.Reward;
            record["eval_format"] = report.Format;
            var sampled = await RlEvaluation.RunAsync(sampler, heldOut, options.MaxTokens, options.Temperature, EvalSamplesPerProblem, cancellationToken);
            record["eval_sampled_accuracy"] = sampled.Accuracy;
            log($"step {step}: held-out accuracy greedy {report.Accuracy:P1}, sampled {sampled.Accuracy:P1} (T={options.Temperature}, {EvalSamplesPerProblem} each) over {report.Problems}; greedy reward {report.Reward:F3}, format {report.Format:P0}");
            return report;
        }

        if (first == 0 && heldOut.Count > 0)
        {
            var record = new Dictionary<string, double> { ["step"] = 0 };
            initialEval = await EvaluateAsync(0, record);
            await WriteAsync(record);
        }

        // The sampling side: batch s needs weights of version ≥ s − 1 − bound (bound 0 in sync
        // mode, where it is sampled only after step s − 1 has been published).
        int bound = options.Async ? options.MaxStepsOffPolicy : 0;
        var batches = Channel.CreateBounded<RlBatch>(1);
        // Stops the sampling side when training fails, so it does not wait on a full channel forever.
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        async Task SampleAllAsync()
        {
            try
            {
                for (int step = first + 1; step <= options.Steps; step++)
                {
                    var (sampler, version) = await samplers.AcquireAsync(step - 1 - bound, stopSampling.Token);
                    var started = Stopwatch.StartNew();
                    IReadOnlyList<TrajectoryGroup> groups;
                    try { groups = await Rollouts.RunAsync(sampler, version, dataset.GetBatch(step - 1), sampling, unchecked((int)options.Seed * 31 + step), stopSampling.Token, options.RoutingReplay); }
                    finally { await samplers.Release(sampler); }
                    await batches.Writer.WriteAsync(new RlBatch(step, groups, version, started.Elapsed.TotalSeconds), stopSampling.Token);
                }
                batches.Writer.Complete();
            }
            catch (Exception e)
            {
                batches.Writer.Complete(e);
            }
        }
        var producer = Task.Run(SampleAllAsync, CancellationToken.None);

        double firstReward = double.NaN, lastReward = double.NaN;
        var lastStepEnd = clock.Elapsed;
        try
        {
            await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken))
            {
                if (batch.Staleness > bound) throw new InvalidOperationException($"step {batch.Step} got a batch {batch.Staleness} steps off-policy (bound {bound})");
                var trainStarted = clock.Elapsed;
                var (record, path) = await trainer.StepAsync(batch, cancellationToken);
                var published = await client.CreateSamplingClientAsync(modelPath: path, cancellationToken: cancellationToken);
                await samplers.Publish(published, batch.Step);
                // The previous sampler's weights live in its session (while a batch still uses it): its files are no longer needed.
                await rest.DeleteCheckpointAsync(samplerPath, cancellationToken);
                samplerPath = path;

                var now = clock.Elapsed;
                double stepSeconds = (now - lastStepEnd).TotalSeconds;
                lastStepEnd = now;
                record["step"] = batch.Step;
                record["sample_seconds"] = batch.SampleSeconds;
                record["train_seconds"] = (now - trainStarted).TotalSeconds;
                // Since the previous step was published: the wait for this batch and its training
                // (and the previous step's eval and checkpoint, when it had them).
                record["step_seconds"] = stepSeconds;
                record["tokens_per_second"] = (record["sampled_tokens"] + record["trained_tokens"]) / Math.Max(1e-9, stepSeconds);
                if (double.IsNaN(firstReward)) firstReward = record["reward"];
                lastReward = record["reward"];
                log(string.Create(CultureInfo.InvariantCulture,
                    $"step {batch.Step}/{options.Steps}  reward {record["reward"]:F3}  accuracy {record["accuracy"]:P0}  kl_sample_train {record.GetValueOrDefault("kl_sample_train_v1"):F4}  entropy {record["entropy"]:F3}  staleness {batch.Staleness}  {record["tokens_per_second"]:F0} tok/s"));
                if (heldOut.Count > 0 && (batch.Step % options.EvalEvery == 0 || batch.Step == options.Steps))
                    finalEval = await EvaluateAsync(batch.Step, record);
                await WriteAsync(record);
                if (batch.Step % options.CheckpointEvery == 0 || batch.Step == options.Steps)
                {
                    var state = await (await run.SaveStateAsync($"step-{batch.Step}", cancellationToken)).ResultAsync(cancellationToken);
                    new RecipeProgress(run.RunId, batch.Step, state.Path).Save(options.OutputDirectory);
                }
            }
        }
        finally
        {
            stopSampling.Cancel();
        }
        await producer;
        WriteCurves(metricsPath, options.OutputDirectory);
        return new RlResult(samplerPath, options.Steps, firstReward, lastReward, initialEval, finalEval);
    }

    // The state's weights with a fresh optimizer: the SFT optimizer's moments belong to another
    // objective. A state of another shape would silently train something else than asked, so it is refused.
    static async Task<TrainingClient> InitFromAsync(ServiceClient client, RlOptions options, CancellationToken cancellationToken)
    {
        var run = await client.CreateTrainingClientFromStateAsync(options.InitFrom!, withOptimizer: false, cancellationToken: cancellationToken);
        var info = await client.CreateRestClient().GetTrainingRunAsync(run.RunId, cancellationToken);
        if (info.BaseModel != options.BaseModel)
            throw new ArgumentException($"init-from: {options.InitFrom} is a state of base model '{info.BaseModel}', not '{options.BaseModel}'");
        if (info.FullFineTuning != options.FullFineTuning || (!info.FullFineTuning && info.Rank != options.Rank))
            throw new ArgumentException($"init-from: {options.InitFrom} is a {(info.FullFineTuning ? "full fine-tuning" : $"rank-{info.Rank} LoRA")} state, "
                + $"not {(options.FullFineTuning ? "full fine-tuning" : $"rank {options.Rank}")} as asked");
        return run;
    }

    // Charts are drawn from the whole metrics file, so a resumed run's cover the steps before it too.
    static void WriteCurves(string metricsPath, string directory)
    {
        MetricsChart.WritePng(metricsPath, Path.Combine(directory, "reward.png"), "RL: training batches", ["reward", "accuracy"], yLabel: "mean reward / accuracy");
        MetricsChart.WritePng(metricsPath, Path.Combine(directory, "eval.png"), "RL: held-out evaluation", ["eval_accuracy", "eval_sampled_accuracy"], yLabel: "accuracy");
    }

    // Steps logged after the last saved state are done again by the resumed run.
    static void KeepRecordsUpTo(string metricsPath, int step)
    {
        if (!File.Exists(metricsPath)) return;
        var kept = File.ReadLines(metricsPath).Where(l => JsonSerializer.Deserialize<Dictionary<string, double>>(l)!["step"] <= step).ToArray();
        File.WriteAllLines(metricsPath, kept);
    }

    static double LastValue(string metricsPath, string key)
    {
        if (!File.Exists(metricsPath)) return 0;
        var last = File.ReadLines(metricsPath).LastOrDefault();
        return last is null ? 0 : JsonSerializer.Deserialize<Dictionary<string, double>>(last)!.GetValueOrDefault(key);
    }
}
