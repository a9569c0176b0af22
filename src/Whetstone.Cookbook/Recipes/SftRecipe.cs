using System.Diagnostics;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Recipes;

/// <summary>Supervised fine-tuning through the SDK: chat JSONL rendered with the model's
/// renderer, LoRA (or full) training with pipelined steps, held-out NLL, metrics.jsonl per step,
/// checkpoints every N steps with automatic resume, a loss curve, and a final sampler checkpoint.</summary>
public static class SftRecipe
{
    public static async Task<SftResult> RunAsync(ServiceClient client, HuggingFaceTokenizer tokenizer, SftOptions options, Action<string> log,
        CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var renderer = RendererFactory.For(tokenizer);
        var train = Render(ChatJsonl.Read(options.TrainData, options.SkipBadLines, log), renderer, options.TrainOn);
        var heldOut = options.HeldOutData is null ? [] : Render(ChatJsonl.Read(options.HeldOutData, options.SkipBadLines, log), renderer, TrainOnWhat.AllAssistantMessages);
        if (train.Count == 0) throw new InvalidOperationException($"{options.TrainData}: no usable examples");

        var progress = RecipeProgress.Load(options.OutputDirectory);
        TrainingClient run;
        if (progress is not null)
        {
            run = await client.CreateTrainingClientFromStateAsync(progress.StatePath, withOptimizer: true, cancellationToken: cancellationToken);
            log($"resumed from {progress.StatePath} at step {progress.Step}");
        }
        else
        {
            run = await client.CreateTrainingClientAsync(new CreateTrainingRunRequest(options.BaseModel)
            {
                Rank = options.Rank, FullFineTuning = options.FullFineTuning, Seed = options.Seed,
            }, cancellationToken);
        }

        var adam = new AdamParams { LearningRate = options.LearningRate };
        var metricsPath = Path.Combine(options.OutputDirectory, "metrics.jsonl");
        using var metrics = new StreamWriter(metricsPath, append: true);
        var curve = new List<(int Step, double Loss)>();
        double? heldOutNll = null;
        var clock = Stopwatch.StartNew();
        int first = progress?.Step ?? 0;
        for (int step = first + 1; step <= options.Steps; step++)
        {
            var batch = Batch(train, options.BatchSize, options.Seed, step);
            // Submitted back to back: the service runs the whole step in one cycle.
            var forwardBackward = await run.ForwardBackwardAsync(batch, "cross_entropy", cancellationToken: cancellationToken);
            var optim = await run.OptimStepAsync(adam, cancellationToken);
            var output = await forwardBackward.ResultAsync(cancellationToken);
            await optim.ResultAsync(cancellationToken);
            double weight = batch.Sum(d => d.LossFnInputs["weights"].Data.Sum());
            double loss = output.Metrics["loss:sum"] / Math.Max(1, weight);
            curve.Add((step, loss));
            var record = new Dictionary<string, object> { ["step"] = step, ["loss"] = loss, ["trained_tokens"] = weight, ["seconds"] = clock.Elapsed.TotalSeconds };
            if (heldOut.Count > 0 && (step % options.EvaluateEvery == 0 || step == options.Steps))
                record["held_out_nll"] = heldOutNll = await NllAsync(run, heldOut, options.BatchSize, cancellationToken);
            await metrics.WriteLineAsync(JsonSerializer.Serialize(record));
            await metrics.FlushAsync(cancellationToken);
            // Loss per trained token and held-out NLL on the server too, for the web console's curves.
            await run.RecordMetricsAsync(step, record.Where(m => m.Key is "loss" or "held_out_nll").ToDictionary(m => m.Key, m => (double)m.Value), cancellationToken);
            log($"step {step}/{options.Steps}  loss {loss:F4}" + (record.TryGetValue("held_out_nll", out var nll) ? $"  held-out NLL {nll:F4}" : ""));
            if (step % options.CheckpointEvery == 0 || step == options.Steps)
            {
                var state = await (await run.SaveStateAsync($"step-{step}", cancellationToken)).ResultAsync(cancellationToken);
                new RecipeProgress(run.RunId, step, state.Path).Save(options.OutputDirectory);
            }
        }
        var sampler = await (await run.SaveWeightsForSamplerAsync("final", cancellationToken)).ResultAsync(cancellationToken);
        await metrics.FlushAsync(cancellationToken);
        MetricsChart.WritePng(metricsPath, Path.Combine(options.OutputDirectory, "loss.png"), "SFT", ["loss", "held_out_nll"], yLabel: "NLL per trained token");
        return new SftResult(sampler.Path, options.Steps, curve.FirstOrDefault().Loss, curve.LastOrDefault().Loss, heldOutNll);
    }

    /// <summary>Mean negative log-likelihood per trained token over the data.</summary>
    public static async Task<double> NllAsync(TrainingClient run, IReadOnlyList<Datum> data, int batchSize, CancellationToken cancellationToken = default)
    {
        double loss = 0, weight = 0;
        foreach (var chunk in data.Chunk(batchSize))
        {
            var output = await (await run.ForwardAsync(chunk, "cross_entropy", cancellationToken: cancellationToken)).ResultAsync(cancellationToken);
            loss += output.Metrics["loss:sum"];
            weight += chunk.Sum(d => d.LossFnInputs["weights"].Data.Sum());
        }
        return loss / Math.Max(1, weight);
    }

    public static List<Datum> Render(IEnumerable<IReadOnlyList<ChatMessage>> conversations, IRenderer renderer, TrainOnWhat trainOn) =>
        conversations.Select(c => renderer.BuildSupervisedExample(c, trainOn))
            .Where(e => e.Tokens.Count > 1 && e.Weights.Skip(1).Any(w => w > 0))
            .Select(e => Datums.ForCrossEntropy(e.Tokens, e.Weights))
            .ToList();

    // Epoch by epoch, each a permutation seeded by (seed, epoch) with a fixed mix (never
    // HashCode, which is randomised per process): a resumed run sees the batches the
    // uninterrupted one would have.
    static Datum[] Batch(IReadOnlyList<Datum> data, int batchSize, long seed, int step)
    {
        var batch = new Datum[batchSize];
        int[]? order = null;
        int orderEpoch = -1;
        for (int i = 0; i < batchSize; i++)
        {
            long position = (long)(step - 1) * batchSize + i;
            int epoch = (int)(position / data.Count);
            if (epoch != orderEpoch)
            {
                order = Enumerable.Range(0, data.Count).ToArray();
                new Random(unchecked((int)seed * 1_000_003 + epoch * 7_919)).Shuffle(order);
                orderEpoch = epoch;
            }
            batch[i] = data[order![position % data.Count]];
        }
        return batch;
    }
}
