using System.Diagnostics;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Recipes;

/// <summary>Pretraining through the SDK: the corpus's training split rendered as chats, packed
/// end to end into fixed-length windows (every token trained), full-parameter steps with a
/// cosine schedule, progress with tokens/s, checkpoints with automatic resume, and the final
/// weights saved as a Hugging Face model.</summary>
public static class PretrainRecipe
{
    public static async Task<PretrainResult> RunAsync(ServiceClient client, HuggingFaceTokenizer tokenizer, PretrainOptions options,
        Action<string> log, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var renderer = RendererFactory.For(tokenizer);
        var progress = RecipeProgress.Load(options.OutputDirectory);
        var run = progress is not null
            ? await client.CreateTrainingClientFromStateAsync(progress.StatePath, withOptimizer: true, cancellationToken: cancellationToken)
            : await client.CreateTrainingClientAsync(new CreateTrainingRunRequest(options.BaseModel) { FullFineTuning = true, Seed = options.Seed }, cancellationToken);
        if (progress is not null) log($"resumed from {progress.StatePath} at step {progress.Step}");

        int first = progress?.Step ?? 0;
        // The data stream is a pure function of the seed: a resumed run skips what it has seen.
        using var windows = Windows(renderer, options).Skip(first * options.BatchSize).GetEnumerator();
        var metricsPath = Path.Combine(options.OutputDirectory, "metrics.jsonl");
        using var metrics = new StreamWriter(metricsPath, append: true);
        var clock = Stopwatch.StartNew();
        double loss = double.NaN, lossSum = 0;
        long tokens = 0, windowTokens = 0;
        int stepsInWindow = 0;
        for (int step = first + 1; step <= options.Steps; step++)
        {
            var batch = new Datum[options.BatchSize];
            for (int i = 0; i < batch.Length; i++)
            {
                windows.MoveNext();
                batch[i] = Datums.ForCrossEntropy(windows.Current);
            }
            var adam = new AdamParams { LearningRate = options.LearningRate(step), WeightDecay = options.WeightDecay, GradClipNorm = 1.0 };
            var forwardBackward = await run.ForwardBackwardAsync(batch, "cross_entropy", cancellationToken: cancellationToken);
            var optim = await run.OptimStepAsync(adam, cancellationToken);
            var output = await forwardBackward.ResultAsync(cancellationToken);
            await optim.ResultAsync(cancellationToken);
            long batchTokens = (long)options.BatchSize * options.SequenceLength;
            loss = output.Metrics["loss:sum"] / batchTokens;
            tokens += batchTokens;
            lossSum += loss;
            windowTokens += batchTokens;
            stepsInWindow++;
            if (step % options.LogEvery == 0 || step == options.Steps)
            {
                double seconds = clock.Elapsed.TotalSeconds;
                await metrics.WriteLineAsync(JsonSerializer.Serialize(new { step, loss = lossSum / stepsInWindow, lr = adam.LearningRate, tokens_per_second = windowTokens / Math.Max(1e-9, seconds) }));
                await metrics.FlushAsync(cancellationToken);
                log($"step {step}/{options.Steps}  loss {lossSum / stepsInWindow:F4}  lr {adam.LearningRate:E2}  {windowTokens / Math.Max(1e-9, seconds):F0} tok/s");
                clock.Restart();
                lossSum = 0;
                windowTokens = 0;
                stepsInWindow = 0;
            }
            bool stopping = step == options.StopAfter;
            if (step % options.CheckpointEvery == 0 || step == options.Steps || stopping)
            {
                var state = await (await run.SaveStateAsync($"step-{step}", cancellationToken)).ResultAsync(cancellationToken);
                new RecipeProgress(run.RunId, step, state.Path).Save(options.OutputDirectory);
                MetricsChart.WritePng(metricsPath, Path.Combine(options.OutputDirectory, "loss.png"), "Pretraining", ["loss"], yLabel: "loss per token");
            }
            if (stopping)
            {
                log($"stopped after step {step}; run again to continue");
                return new PretrainResult("", step, loss, tokens);
            }
        }
        var weights = await (await run.SaveWeightsForSamplerAsync("final", cancellationToken)).ResultAsync(cancellationToken);
        return new PretrainResult(weights.Path, options.Steps, loss, tokens);
    }

    /// <summary>Windows of SequenceLength + 1 tokens (input and shifted targets) cut from the
    /// rendered corpus laid end to end.</summary>
    public static IEnumerable<int[]> Windows(IRenderer renderer, PretrainOptions options)
    {
        var buffer = new List<int>();
        foreach (var example in CorpusGenerator.Generate(options.Seed, heldOut: false))
        {
            buffer.AddRange(renderer.BuildSupervisedExample(example.Messages, TrainOnWhat.AllMessages).Tokens);
            while (buffer.Count >= options.SequenceLength + 1)
            {
                yield return buffer.GetRange(0, options.SequenceLength + 1).ToArray();
                buffer.RemoveRange(0, options.SequenceLength);
            }
        }
    }
}
