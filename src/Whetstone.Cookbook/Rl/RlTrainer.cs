using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Rl;

/// <summary>
/// One RL training step from a batch of episodes: group-centred advantages (groups without
/// reward spread dropped), an optional KL penalty to a reference folded into the per-token
/// advantages, one datum per episode with targets, sampler logprobs and advantages on action
/// tokens only; then forward_backward, optim_step and save_weights_for_sampler submitted
/// together (the service runs them back to back), and the step's metrics.
/// </summary>
public sealed class RlTrainer(TrainingClient run, RlOptions options, SamplingClient? reference)
{
    public async Task<(Dictionary<string, double> Metrics, string SamplerPath)> StepAsync(RlBatch batch, CancellationToken cancellationToken = default)
    {
        var metrics = new Dictionary<string, double>();
        var episodes = batch.Groups.SelectMany(g => g.Trajectories).ToArray();
        metrics["reward"] = episodes.Average(e => e.TotalReward);
        metrics["accuracy"] = episodes.Average(e => e.FinalMetrics.GetValueOrDefault("correct"));
        metrics["format"] = episodes.Average(e => e.FinalMetrics.GetValueOrDefault("format"));
        metrics["turns"] = episodes.Average(e => e.Transitions.Count);
        var sampledLogprobs = episodes.SelectMany(e => e.Transitions.SelectMany(t => t.ActionLogprobs)).ToArray();
        metrics["sampled_tokens"] = sampledLogprobs.Length;
        // Monte-Carlo estimate of the sampler's per-token entropy: E[−log q] over its own samples.
        metrics["entropy"] = sampledLogprobs.Length == 0 ? 0 : -sampledLogprobs.Average();
        metrics["staleness"] = batch.Staleness;
        metrics["sampler_version"] = batch.SamplerVersion;

        var sequences = new List<PolicySequence>();
        var advantages = new List<float[]>();
        int groupsWithSignal = 0;
        foreach (var group in batch.Groups)
        {
            var rewards = group.Trajectories.Select(t => t.TotalReward).ToArray();
            if (!GroupAdvantages.HasSignal(rewards)) continue;
            groupsWithSignal++;
            var centred = GroupAdvantages.Centered(rewards);
            for (int i = 0; i < rewards.Length; i++)
                foreach (var sequence in PolicySequence.FromTrajectory(group.Trajectories[i]))
                {
                    sequences.Add(sequence);
                    advantages.Add(sequence.Advantages(centred[i]));
                }
        }
        metrics["groups_with_signal"] = groupsWithSignal;
        if (reference is not null && sequences.Count > 0)
            metrics["kl_policy_ref"] = await FoldKlPenaltyAsync(sequences, advantages, cancellationToken);

        var data = sequences.Select((s, i) => s.ToDatum(advantages[i])).ToArray();
        metrics["trained_tokens"] = sequences.Sum(s => s.ActionCount);
        // Share of the data that trains on the sampler's experts (routing replay; 0 when off).
        if (options.RoutingReplay) metrics["routing_replayed"] = data.Length == 0 ? 0 : data.Count(d => d.RoutedExperts is not null) / (double)data.Length;
        ApiFuture<ForwardBackwardOutput>? forwardBackward = null;
        ApiFuture<OptimStepOutput>? optim = null;
        if (data.Length > 0)
        {
            forwardBackward = await run.ForwardBackwardAsync(data, options.LossFn, options.TrainingLossConfig(), cancellationToken);
            optim = await run.OptimStepAsync(new AdamParams { LearningRate = options.LearningRate }, cancellationToken);
        }
        var save = await run.SaveWeightsForSamplerAsync($"rl-step-{batch.Step}", cancellationToken);
        if (forwardBackward is not null)
        {
            var output = await forwardBackward.ResultAsync(cancellationToken);
            await optim!.ResultAsync(cancellationToken);
            metrics["loss"] = output.Metrics["loss:sum"] / Math.Max(1, metrics["trained_tokens"]);
            var (v1, v2) = SampleTrainKl(sequences, output);
            metrics["kl_sample_train_v1"] = v1;
            metrics["kl_sample_train_v2"] = v2;
        }
        var saved = await save.ResultAsync(cancellationToken);
        return (metrics, saved.Path);
    }

    /// <summary>How far the learner's logprobs (before this step's update) are from the
    /// sampler's on the trained tokens: v1 = mean(log q − log p), v2 = mean(½(log q − log p)²).
    /// Zero when on-policy with identical numerics; grows with staleness.</summary>
    public static (double V1, double V2) SampleTrainKl(IReadOnlyList<PolicySequence> sequences, ForwardBackwardOutput output)
    {
        double v1 = 0, v2 = 0;
        long count = 0;
        for (int s = 0; s < sequences.Count; s++)
        {
            var learner = output.LossFnOutputs[s].Logprobs.Data;
            var sequence = sequences[s];
            // Target j is token j + 1.
            for (int j = 0; j < learner.Count; j++)
            {
                if (!sequence.IsAction[j + 1]) continue;
                double diff = sequence.SamplerLogprobs[j + 1] - learner[j];
                v1 += diff;
                v2 += 0.5 * diff * diff;
                count++;
            }
        }
        return count == 0 ? (0, 0) : (v1 / count, v2 / count);
    }

    // Tinker's incorporate_kl_penalty: A_t += β·(mean_KL − KL_t) with KL_t = log q_t − log ref_t,
    // so tokens the policy likes more than the reference does are pushed back.
    async Task<double> FoldKlPenaltyAsync(List<PolicySequence> sequences, List<float[]> advantages, CancellationToken cancellationToken)
    {
        var futures = new List<ApiFuture<ComputeLogprobsOutput>>();
        foreach (var sequence in sequences)
            futures.Add(await reference!.ComputeLogprobsAsync(ModelInput.FromTokens(sequence.Tokens), cancellationToken));
        var kl = new List<double[]>();
        foreach (var (sequence, future) in sequences.Zip(futures))
        {
            var referenceLogprobs = (await future.ResultAsync(cancellationToken)).Logprobs;
            kl.Add(sequence.Tokens.Select((_, t) => sequence.IsAction[t] ? sequence.SamplerLogprobs[t] - (referenceLogprobs[t] ?? 0) : 0).ToArray());
        }
        double mean = kl.SelectMany((k, s) => k.Where((_, t) => sequences[s].IsAction[t])).DefaultIfEmpty(0).Average();
        for (int s = 0; s < sequences.Count; s++)
            for (int t = 0; t < kl[s].Length; t++)
                if (sequences[s].IsAction[t]) advantages[s][t] += (float)(options.KlPenalty * (mean - kl[s][t]));
        return mean;
    }
}
