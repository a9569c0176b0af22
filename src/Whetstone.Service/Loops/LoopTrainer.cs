using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Loops;

/// <summary>The RL of one loop iteration, through the service's own run and sampling machinery:
/// a LoRA run continuing the deployed adapter; per step, groups of answers sampled from the current
/// policy on prompts from the deployment's served log, rewarded (<see cref="LoopReward"/>),
/// group-centred advantages with a per-token KL penalty to the deployed policy
/// (A_t = A + β(mean KL − KL_t), KL_t = log π(t) − log π_deployed(t)), one importance_sampling
/// forward_backward, plus the users' corrections as SFT (a cross_entropy forward_backward over
/// the corrected answers' tokens, CorrectionSftWeight per token; the gradients add up) — sampling
/// alone never reaches an answer unlike anything the policy writes, a correction shows it — and
/// one optim_step; the policy is saved for sampling after every step.</summary>
internal sealed class LoopTrainer(ServiceContext context, TrainingRunService runs, LoopSampling sampling, LoopReward reward, Caller caller)
{
    /// <summary>What training produced: the run, its last sampler checkpoint, per-step metrics.</summary>
    public sealed record Result(string RunId, string PolicyCheckpoint, Dictionary<string, double> Metrics);

    public async Task<Result> TrainAsync(string deployedPath, IReadOnlyList<IReadOnlyList<int>> prompts, LoopRlSettings rl, string runId,
        int iteration, Func<Task> checkPaused, CancellationToken cancellationToken, IReadOnlyList<CorrectionExample>? corrections = null)
    {
        var metrics = new Dictionary<string, double>();
        var sft = rl.CorrectionSftWeight > 0 ? CorrectionData(corrections ?? [], rl) : [];
        metrics["corrections_available"] = sft.Count;
        if (sft.Count < rl.MinCorrections) sft = [];
        metrics["sft_corrections"] = sft.Count;
        // Without a reward that can differ between answers every group would be skipped: the steps are the corrections' SFT alone.
        bool sample = await reward.CanVaryAsync(cancellationToken);
        metrics["rl_sampled"] = sample ? 1 : 0;
        // Nothing could be trained (no reward that can differ, too few corrections): no steps, and the job skips the gate.
        if (!sample && sft.Count == 0)
        {
            metrics["trained"] = 0;
            return new Result(runId, deployedPath, metrics);
        }
        bool trained = false;
        string reference = await sampling.OpenAsync(deployedPath);
        string policyPath = deployedPath;
        try
        {
            var anchor = rl.AnchorWeight > 0 && sft.Count > 0 ? await AnchorDataAsync(reference, prompts, corrections ?? [], rl, iteration) : [];
            metrics["anchor_answers"] = anchor.Count;
            for (int step = 0; step < rl.Steps; step++)
            {
                await checkPaused();
                var rng = new Random(StableHash.Seed("loop-step", rl.Seed, iteration, step));
                var chosen = Enumerable.Range(0, rl.PromptsPerStep).Select(_ => prompts[rng.Next(prompts.Count)]).ToArray();
                List<Datum> data = [];
                if (sample)
                {
                    string policy = policyPath == deployedPath ? reference : await sampling.OpenAsync(policyPath);
                    double meanReward, meanKl;
                    try { (data, meanReward, meanKl) = await StepDataAsync(policy, reference, chosen, rl, rng, cancellationToken); }
                    finally { if (policy != reference) await sampling.CloseAsync(policy); }
                    metrics[$"step{step}_reward"] = meanReward;
                    metrics[$"step{step}_kl"] = meanKl;
                }
                metrics[$"step{step}_datums"] = data.Count;
                if (data.Count > 0)
                {
                    var fb = await runs.ForwardAsync(caller, runId, new ForwardBackwardRequest(data, "importance_sampling"), backward: true);
                    await context.Futures.ResultAsync<ForwardBackwardOutput>(fb.RequestId, cancellationToken);
                }
                if (sft.Count > 0)
                {
                    var fb = await runs.ForwardAsync(caller, runId, new ForwardBackwardRequest(sft, "cross_entropy"), backward: true);
                    var output = await context.Futures.ResultAsync<ForwardBackwardOutput>(fb.RequestId, cancellationToken);
                    if (output.Metrics.TryGetValue("loss:sum", out double loss))
                        metrics[$"step{step}_sft_loss_per_token"] = loss / (rl.CorrectionSftWeight * sft.Sum(d => d.LossFnInputs["weights"].Data.Count(w => w > 0)));
                }
                if (anchor.Count > 0)
                {
                    var fb = await runs.ForwardAsync(caller, runId, new ForwardBackwardRequest(anchor, "cross_entropy"), backward: true);
                    var output = await context.Futures.ResultAsync<ForwardBackwardOutput>(fb.RequestId, cancellationToken);
                    // Before this step's update: the current policy's NLL per token of the deployed version's own answers (step 0: the deployed policy's).
                    if (output.Metrics.TryGetValue("loss:sum", out double loss))
                        metrics[$"step{step}_anchor_nll_per_token"] = loss / (rl.AnchorWeight * anchor.Sum(d => d.LossFnInputs["weights"].Data.Count(w => w > 0)));
                }
                if (data.Count > 0 || sft.Count > 0)
                {
                    trained = true;
                    var opt = await runs.OptimStepAsync(caller, runId, new OptimStepRequest(new AdamParams { LearningRate = rl.LearningRate }));
                    await context.Futures.ResultAsync<OptimStepOutput>(opt.RequestId, cancellationToken);
                }
                var saved = await runs.SaveAsync(caller, runId, new SaveStateRequest($"loop-it{iteration}-step{step + 1}"), CheckpointPath.SamplerWeights);
                policyPath = (await context.Futures.ResultAsync<SaveStateOutput>(saved.RequestId, cancellationToken)).Path;
            }
        }
        finally
        {
            await sampling.CloseAsync(reference);
        }
        metrics["trained"] = trained ? 1 : 0;
        if (!trained) return new Result(runId, deployedPath, metrics);
        if (policyPath == deployedPath)
        {
            var saved = await runs.SaveAsync(caller, runId, new SaveStateRequest($"loop-it{iteration}-step0"), CheckpointPath.SamplerWeights);
            policyPath = (await context.Futures.ResultAsync<SaveStateOutput>(saved.RequestId, cancellationToken)).Path;
        }
        return new Result(runId, policyPath, metrics);
    }

    /// <summary>The anchor (<see cref="LoopAnchor"/>): the deployed version's greedy answers to served
    /// prompts no correction was given on. Only with corrections to train: it holds what they would pull away.</summary>
    async Task<List<Datum>> AnchorDataAsync(string reference, IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<CorrectionExample> corrections,
        LoopRlSettings rl, int iteration)
    {
        var chosen = LoopAnchor.ChoosePrompts(prompts, corrections, rl, iteration);
        if (rl.AnchorBareQuestion) chosen = LoopAnchor.BareQuestions(chosen, p => sampling.Tokenizer.Decode(p), sampling.UserPrompt);
        var answers = await Task.WhenAll(chosen.Select(p => sampling.SampleAsync(reference, p, 1, rl.MaxTokens, 0, 0)));
        return chosen.Select((p, i) => (Prompt: p, Answer: answers[i][0].Tokens)).Where(x => x.Answer.Count > 0)
            .Select(x => LoopAnchor.Datum(x.Prompt, x.Answer, rl.AnchorWeight, LoopAnchor.WeightedTokens(x.Answer, rl.AnchorScope, t => sampling.Tokenizer.Decode(t))))
            .Where(d => d.LossFnInputs["weights"].Data.Any(w => w > 0)).ToList();
    }

    /// <summary>The newest CorrectionWindow corrections (with CorrectionsKeepingAnswer, of those that
    /// keep the served answer's result: <see cref="ArithmeticAnswer.KeepsAnswer"/>) as cross_entropy
    /// datums: prompt + corrected answer, weight CorrectionSftWeight on the answer's tokens, 0 on the prompt's.</summary>
    public static List<Datum> CorrectionData(IReadOnlyList<CorrectionExample> corrections, LoopRlSettings rl) =>
        corrections.Where(c => !rl.CorrectionsKeepingAnswer || ArithmeticAnswer.KeepsAnswer(c.Original, c.Correction))
            .TakeLast(rl.CorrectionWindow).Where(c => c.CorrectionTokens.Count > 0).Select(c =>
        {
            var tokens = c.PromptTokens.Concat(c.CorrectionTokens).ToArray();
            var weights = tokens.Select((_, i) => i >= c.PromptTokens.Count ? (float)rl.CorrectionSftWeight : 0f).ToArray();
            return new Datum(ModelInput.FromTokens(tokens[..^1]), new Dictionary<string, TensorData>
            {
                ["target_tokens"] = TensorData.Int64(tokens.Skip(1)),
                ["weights"] = TensorData.Float32(weights.Skip(1)),
            });
        }).ToList();

    async Task<(List<Datum> Data, double MeanReward, double MeanKl)> StepDataAsync(string policy, string reference, IReadOnlyList<IReadOnlyList<int>> prompts,
        LoopRlSettings rl, Random rng, CancellationToken cancellationToken)
    {
        var groups = await Task.WhenAll(prompts.Select(async p =>
            (Prompt: p, Answers: await sampling.SampleAsync(policy, p, rl.GroupSize, rl.MaxTokens, rl.Temperature, rng.Next()))));
        var pairs = groups.SelectMany(g => g.Answers.Select(a => (g.Prompt, (IReadOnlyList<int>)a.Tokens))).ToArray();
        var rewards = await reward.ScoreAsync(pairs, cancellationToken);

        // Per-token KL to the deployed policy on every sampled answer.
        var kl = new double[pairs.Length][];
        await Task.WhenAll(pairs.Select(async (pair, i) =>
        {
            var full = pair.Prompt.Concat(pair.Item2).ToArray();
            var referenceLogprobs = await sampling.LogprobsAsync(reference, full);
            var answer = groups[i / rl.GroupSize].Answers[i % rl.GroupSize];
            kl[i] = answer.Logprobs.Select((lp, t) => lp - (referenceLogprobs[pair.Prompt.Count + t] ?? lp)).ToArray();
        }));
        double meanKl = kl.SelectMany(k => k).DefaultIfEmpty(0).Average();

        var data = new List<Datum>();
        for (int g = 0; g < groups.Length; g++)
        {
            var groupRewards = rewards.Skip(g * rl.GroupSize).Take(rl.GroupSize).ToArray();
            double mean = groupRewards.Average();
            // A group whose answers all scored the same teaches nothing about the reward (as in the cookbook's RL).
            if (groupRewards.All(r => Math.Abs(r - mean) < 1e-9)) continue;
            for (int s = 0; s < rl.GroupSize; s++)
            {
                int i = g * rl.GroupSize + s;
                var answer = groups[g].Answers[s];
                var prompt = groups[g].Prompt;
                int length = prompt.Count + answer.Tokens.Count;
                var logprobs = new float[length];
                var advantages = new float[length];
                for (int t = 0; t < answer.Tokens.Count; t++)
                {
                    logprobs[prompt.Count + t] = (float)answer.Logprobs[t];
                    advantages[prompt.Count + t] = (float)(groupRewards[s] - mean + rl.KlCoef * (meanKl - kl[i][t]));
                }
                var tokens = prompt.Concat(answer.Tokens).ToArray();
                data.Add(new Datum(ModelInput.FromTokens(tokens[..^1]), new Dictionary<string, TensorData>
                {
                    ["target_tokens"] = TensorData.Int64(tokens.Skip(1)),
                    ["logprobs"] = TensorData.Float32(logprobs.Skip(1)),
                    ["advantages"] = TensorData.Float32(advantages.Skip(1)),
                }));
            }
        }
        return (data, rewards.DefaultIfEmpty(0).Average(), meanKl);
    }
}
