using System.Diagnostics;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Preference;

/// <summary>
/// A reward model through the SDK: a value_head run on the base model, trained on corpus
/// preference pairs with the Bradley-Terry loss, or on thumbs up/down ratings of single answers
/// with the binary logistic loss. Either way it is judged the same way: held-out pairwise
/// accuracy, the share of held-out pairs whose right answer scores above the wrong one.
/// </summary>
public static class RewardModelRecipe
{
    public static async Task<(RewardModelResult Result, TrainingClient RewardModel)> RunAsync(ServiceClient client, HuggingFaceTokenizer tokenizer,
        RewardModelOptions options, Action<string> log, CancellationToken cancellationToken = default)
    {
        if (options.Loss is not ("bradley_terry" or "binary_logistic"))
            throw new ArgumentException($"loss '{options.Loss}' is not bradley_terry or binary_logistic");
        Directory.CreateDirectory(options.OutputDirectory);
        var renderer = RendererFactory.For(tokenizer);
        var train = options.Loss == "bradley_terry"
            ? PreferenceData.Pairs(options.Seed, heldOut: false, options.Tasks).Take(options.TrainPairs)
                .SelectMany(p => new[] { Whole(renderer, p.Prompt, p.Chosen), Whole(renderer, p.Prompt, p.Rejected) }).ToList()
            : PreferenceData.Ratings(options.Seed, heldOut: false, options.Tasks).Take(2 * options.TrainPairs)
                .Select(r => Whole(renderer, r.Prompt, r.Response, r.ThumbsUp ? 1f : 0f)).ToList();
        var heldOut = PreferenceData.Pairs(options.Seed, heldOut: true, options.Tasks).Take(options.HeldOutPairs).ToList();

        var rm = await client.CreateRewardModelClientAsync(options.BaseModel, options.Rank, options.Seed, cancellationToken);
        var clock = Stopwatch.StartNew();
        double before = await PairwiseAccuracyAsync(rm, renderer, heldOut, cancellationToken), after = before;
        log($"reward model {rm.RunId} ({options.Loss}): held-out pairwise accuracy before training {before:P1}");

        var adam = new AdamParams { LearningRate = options.LearningRate };
        using var metrics = new StreamWriter(Path.Combine(options.OutputDirectory, "metrics.jsonl"));
        int perStep = 2 * options.BatchPairs;   // both layouts: 2 sequences per pair
        for (int step = 1; step <= options.Steps; step++)
        {
            // Pairs stay whole: batches start at even offsets of the (pair-ordered) data.
            int start = (int)((long)(step - 1) * perStep % (train.Count - train.Count % perStep));
            var batch = train.Skip(start).Take(perStep).ToArray();
            var forwardBackward = await rm.ForwardBackwardAsync(batch, options.Loss, cancellationToken: cancellationToken);
            var optim = await rm.OptimStepAsync(adam, cancellationToken);
            var output = await forwardBackward.ResultAsync(cancellationToken);
            await optim.ResultAsync(cancellationToken);
            var record = new Dictionary<string, object>
            {
                // Per pair (bradley_terry) or per rated answer (binary_logistic): ln 2 = chance for both.
                ["step"] = step, ["loss"] = output.Metrics["loss:sum"] / (options.Loss == "bradley_terry" ? batch.Length / 2 : batch.Length),
                ["accuracy"] = output.Metrics["accuracy"],
                ["seconds"] = clock.Elapsed.TotalSeconds,
            };
            if (step % options.EvaluateEvery == 0 || step == options.Steps)
                record["held_out_pairwise_accuracy"] = after = await PairwiseAccuracyAsync(rm, renderer, heldOut, cancellationToken);
            await metrics.WriteLineAsync(JsonSerializer.Serialize(record));
            await metrics.FlushAsync(cancellationToken);
            log($"step {step}/{options.Steps}  loss {record["loss"]:F4}  batch acc {output.Metrics["accuracy"]:P0}"
                + (record.ContainsKey("held_out_pairwise_accuracy") ? $"  held-out pairwise acc {after:P1}" : ""));
        }
        var state = await (await rm.SaveStateAsync("final", cancellationToken)).ResultAsync(cancellationToken);
        var result = new RewardModelResult(rm.RunId, state.Path, before, after);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "summary.json"),
            JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        return (result, rm);
    }

    /// <summary>Share of pairs whose chosen answer the reward model scores higher.</summary>
    public static async Task<double> PairwiseAccuracyAsync(TrainingClient rm, IRenderer renderer, IReadOnlyList<PreferencePair> pairs,
        CancellationToken cancellationToken = default)
    {
        var inputs = pairs.SelectMany(p => new[] { PreferenceDatums.Sequence(renderer, p.Prompt, p.Chosen), PreferenceDatums.Sequence(renderer, p.Prompt, p.Rejected) }).ToArray();
        var values = (await (await rm.ScoreAsync(inputs, cancellationToken)).ResultAsync(cancellationToken)).Values;
        int correct = 0;
        for (int p = 0; p < pairs.Count; p++) if (values[2 * p] > values[2 * p + 1]) correct++;
        return (double)correct / Math.Max(1, pairs.Count);
    }

    static Datum Whole(IRenderer renderer, IReadOnlyList<ChatMessage> prompt, string response, float? label = null) =>
        new(PreferenceDatums.Sequence(renderer, prompt, response), label is float l
            ? new Dictionary<string, TensorData> { ["label"] = TensorData.Float32([l]) }
            : new Dictionary<string, TensorData>());
}
