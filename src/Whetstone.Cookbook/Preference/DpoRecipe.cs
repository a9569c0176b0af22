using System.Diagnostics;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Preference;

/// <summary>
/// DPO through the SDK: preference pairs from the corpus (correct vs corrupted answers) train a
/// LoRA policy with the DPO loss computed on the client and applied through the custom-loss
/// surrogate. The reference policy is the policy at step 0 (the base model or the given start
/// state): its response logprobs are computed once, by a forward pass, before the first step.
/// Held-out pairs give DPO accuracy and margin, and the likelihood accuracy (the share of pairs
/// where the policy gives the chosen response the higher log-likelihood) before and after.
/// </summary>
public static class DpoRecipe
{
    public static async Task<DpoResult> RunAsync(ServiceClient client, HuggingFaceTokenizer tokenizer, DpoOptions options, Action<string> log,
        CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var renderer = RendererFactory.For(tokenizer);
        var train = PreferenceDatums.Pairs(renderer, PreferenceData.Pairs(options.Seed, heldOut: false, options.Tasks).Take(options.TrainPairs));
        var heldOut = PreferenceDatums.Pairs(renderer, PreferenceData.Pairs(options.Seed, heldOut: true, options.Tasks).Take(options.HeldOutPairs));

        var policy = options.StartFrom is string state
            ? await client.CreateTrainingClientFromStateAsync(state, cancellationToken: cancellationToken)
            : await client.CreateTrainingClientAsync(new CreateTrainingRunRequest(options.BaseModel) { Rank = options.Rank, Seed = options.Seed }, cancellationToken);

        var clock = Stopwatch.StartNew();
        var trainReference = Sums(train, await LogprobsAsync(policy, train, cancellationToken));
        var heldOutStart = await LogprobsAsync(policy, heldOut, cancellationToken);
        var heldOutReference = Sums(heldOut, heldOutStart);
        var before = DpoLoss.Compute(heldOutStart, heldOut.Select(PreferenceDatums.Mask).ToArray(), heldOutReference, options.Beta).Metrics;
        double likelihoodBefore = LikelihoodAccuracy(heldOutReference);
        log($"reference logprobs of {train.Count / 2} train and {heldOut.Count / 2} held-out pairs in {clock.Elapsed.TotalSeconds:F1}s; held-out likelihood accuracy {likelihoodBefore:P1}");

        var adam = new AdamParams { LearningRate = options.LearningRate };
        using var metrics = new StreamWriter(Path.Combine(options.OutputDirectory, "metrics.jsonl"));
        DpoMetrics after = before;
        double likelihoodAfter = likelihoodBefore;
        int pairs = train.Count / 2;
        for (int step = 1; step <= options.Steps; step++)
        {
            var indices = BatchPairs(pairs, options.BatchPairs, options.Seed, step);
            var batch = indices.SelectMany(p => new[] { train[2 * p], train[2 * p + 1] }).ToArray();
            var masks = batch.Select(PreferenceDatums.Mask).ToArray();
            var reference = indices.SelectMany(p => new[] { trainReference[2 * p], trainReference[2 * p + 1] }).ToArray();
            DpoMetrics? stepMetrics = null;
            var forwardBackward = await policy.ForwardBackwardCustomAsync(batch, logprobs =>
            {
                var result = DpoLoss.Compute(logprobs, masks, reference, options.Beta);
                stepMetrics = result.Metrics;
                return (result.Loss, result.LogprobGradients);
            }, cancellationToken);
            var optim = await policy.OptimStepAsync(adam, cancellationToken);
            await forwardBackward.ResultAsync(cancellationToken);
            await optim.ResultAsync(cancellationToken);

            var record = new Dictionary<string, object>
            {
                ["step"] = step, ["loss"] = stepMetrics!.Loss, ["accuracy"] = stepMetrics.Accuracy, ["margin"] = stepMetrics.Margin,
                ["chosen_reward"] = stepMetrics.ChosenReward, ["rejected_reward"] = stepMetrics.RejectedReward,
                ["seconds"] = clock.Elapsed.TotalSeconds,
            };
            if (step % options.EvaluateEvery == 0 || step == options.Steps)
            {
                var logprobs = await LogprobsAsync(policy, heldOut, cancellationToken);
                after = DpoLoss.Compute(logprobs, heldOut.Select(PreferenceDatums.Mask).ToArray(), heldOutReference, options.Beta).Metrics;
                likelihoodAfter = LikelihoodAccuracy(Sums(heldOut, logprobs));
                record["held_out_loss"] = after.Loss;
                record["held_out_accuracy"] = after.Accuracy;
                record["held_out_margin"] = after.Margin;
                record["held_out_likelihood_accuracy"] = likelihoodAfter;
            }
            await metrics.WriteLineAsync(JsonSerializer.Serialize(record));
            await metrics.FlushAsync(cancellationToken);
            log($"step {step}/{options.Steps}  loss {stepMetrics.Loss:F4}  acc {stepMetrics.Accuracy:P0}  margin {stepMetrics.Margin:F3}"
                + (record.ContainsKey("held_out_accuracy") ? $"  held-out acc {after.Accuracy:P1} margin {after.Margin:F3} likelihood acc {likelihoodAfter:P1}" : ""));
        }
        var sampler = await (await policy.SaveWeightsForSamplerAsync("final", cancellationToken)).ResultAsync(cancellationToken);
        var outcome = new DpoResult(sampler.Path, before, after, likelihoodBefore, likelihoodAfter);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "summary.json"),
            JsonSerializer.Serialize(outcome, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        return outcome;
    }

    /// <summary>The policy's per-token logprobs of every datum (forward passes, no gradient).</summary>
    public static async Task<IReadOnlyList<float[]>> LogprobsAsync(TrainingClient run, IReadOnlyList<Datum> data, CancellationToken cancellationToken, int batchSize = 32)
    {
        var futures = new List<ApiFuture<ForwardBackwardOutput>>();
        foreach (var chunk in data.Chunk(batchSize))
            futures.Add(await run.ForwardAsync(chunk, "cross_entropy", cancellationToken: cancellationToken));
        var logprobs = new List<float[]>();
        foreach (var future in futures)
            logprobs.AddRange((await future.ResultAsync(cancellationToken)).LossFnOutputs.Select(o => o.Logprobs.Data.Select(v => (float)v).ToArray()));
        return logprobs;
    }

    static double[] Sums(IReadOnlyList<Datum> data, IReadOnlyList<float[]> logprobs) =>
        data.Select((d, i) => PreferenceDatums.ResponseLogprob(logprobs[i], PreferenceDatums.Mask(d))).ToArray();

    /// <summary>Share of [chosen, rejected] pairs whose chosen response has the higher log-likelihood.</summary>
    static double LikelihoodAccuracy(IReadOnlyList<double> sums)
    {
        int pairs = sums.Count / 2, correct = 0;
        for (int p = 0; p < pairs; p++) if (sums[2 * p] > sums[2 * p + 1]) correct++;
        return (double)correct / Math.Max(1, pairs);
    }

    // A fresh permutation per epoch, seeded by (seed, epoch): reruns see the same batches.
    static int[] BatchPairs(int pairs, int batchPairs, long seed, int step)
    {
        var batch = new int[batchPairs];
        for (int i = 0; i < batchPairs; i++)
        {
            long position = (long)(step - 1) * batchPairs + i;
            int epoch = (int)(position / pairs);
            var order = Enumerable.Range(0, pairs).ToArray();
            new Random(unchecked((int)seed * 1_000_003 + epoch * 7_919)).Shuffle(order);
            batch[i] = order[position % pairs];
        }
        return batch;
    }
}
