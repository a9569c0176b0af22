using System.Diagnostics;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Distillation;

/// <summary>
/// On-policy distillation (Agarwal et al. 2024; Thinking Machines' "on-policy distillation"):
/// the student samples completions of corpus prompts, the teacher scores every sampled token with
/// compute_logprobs, and each token's advantage is −(log q_student − log p_teacher), the negative
/// of the per-token reverse-KL estimate; training with importance_sampling then pushes the
/// student's probability up where the teacher likes its own tokens more than the student does
/// and down where less. The student's logprobs are the sampler's (at temperature 1 they are the
/// learner's, so ratios start at 1). The figure of merit is that same reverse KL, measured on
/// held-out prompts with fresh student samples.
/// </summary>
public static class OnPolicyDistillation
{
    public static async Task<DistillationResult> RunAsync(ServiceClient client, HuggingFaceTokenizer tokenizer, DistillationOptions options,
        Action<string> log, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var renderer = RendererFactory.For(tokenizer);
        var tasks = options.Tasks ?? [ArithmeticTask.Name, InstructionTask.Name];
        var trainPrompts = CorpusGenerator.Generate(options.Seed, heldOut: false, tasks).Take(options.Steps * options.PromptsPerStep)
            .Select(e => renderer.BuildGenerationPrompt(e.Prompt)).ToList();
        var heldOutPrompts = CorpusGenerator.Generate(options.Seed, heldOut: true, tasks).Take(options.HeldOutPrompts)
            .Select(e => renderer.BuildGenerationPrompt(e.Prompt)).ToList();
        var student = await client.CreateLoraTrainingClientAsync(options.StudentModel, options.Rank, options.Seed, cancellationToken: cancellationToken);
        var teacher = await client.CreateSamplingClientAsync(baseModel: options.TeacherModel, cancellationToken: cancellationToken);
        var parameters = new SamplingParams { MaxTokens = options.MaxTokens, Temperature = options.Temperature, StopTokenIds = renderer.StopTokenIds };

        var clock = Stopwatch.StartNew();
        var sampler = await student.SaveWeightsAndGetSamplingClientAsync("step-0", cancellationToken);
        double before = (await RolloutsAsync(sampler, teacher, heldOutPrompts, 1, parameters with { Seed = 1 }, cancellationToken)).MeanKl, after = before;
        log($"held-out reverse KL(student ‖ teacher) before training: {before:F4} nats/token");

        var adam = new AdamParams { LearningRate = options.LearningRate };
        using var metrics = new StreamWriter(Path.Combine(options.OutputDirectory, "metrics.jsonl"));
        for (int step = 1; step <= options.Steps; step++)
        {
            var prompts = trainPrompts.Skip((step - 1) * options.PromptsPerStep).Take(options.PromptsPerStep).ToList();
            var rollouts = await RolloutsAsync(sampler, teacher, prompts, options.SamplesPerPrompt, parameters with { Seed = (int)(options.Seed * 7919 + step) }, cancellationToken);
            var forwardBackward = await student.ForwardBackwardAsync(rollouts.Data, "importance_sampling", cancellationToken: cancellationToken);
            var optim = await student.OptimStepAsync(adam, cancellationToken);
            await forwardBackward.ResultAsync(cancellationToken);
            await optim.ResultAsync(cancellationToken);
            sampler = await student.SaveWeightsAndGetSamplingClientAsync($"step-{step}", cancellationToken);

            var record = new Dictionary<string, object>
            {
                ["step"] = step, ["train_reverse_kl"] = rollouts.MeanKl, ["sampled_tokens"] = rollouts.Tokens, ["seconds"] = clock.Elapsed.TotalSeconds,
            };
            if (step % options.EvaluateEvery == 0 || step == options.Steps)
                record["held_out_reverse_kl"] = after = (await RolloutsAsync(sampler, teacher, heldOutPrompts, 1, parameters with { Seed = 1 }, cancellationToken)).MeanKl;
            await metrics.WriteLineAsync(JsonSerializer.Serialize(record));
            await metrics.FlushAsync(cancellationToken);
            log($"step {step}/{options.Steps}  reverse KL {rollouts.MeanKl:F4} over {rollouts.Tokens} tokens"
                + (record.ContainsKey("held_out_reverse_kl") ? $"  held-out {after:F4}" : ""));
        }
        var result = new DistillationResult(sampler.ModelPath!, before, after);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "summary.json"),
            JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        return result;
    }

    /// <summary>Student samples of each prompt, scored by the teacher: the importance_sampling
    /// data and the mean per-token reverse-KL estimate log q − log p over the sampled tokens.</summary>
    public static async Task<(IReadOnlyList<Datum> Data, double MeanKl, long Tokens)> RolloutsAsync(SamplingClient student, SamplingClient teacher,
        IReadOnlyList<IReadOnlyList<int>> prompts, int samplesPerPrompt, SamplingParams parameters, CancellationToken cancellationToken)
    {
        var sampled = new List<ApiFuture<SampleOutput>>();
        foreach (var prompt in prompts)
            sampled.Add(await student.SampleAsync(ModelInput.FromTokens(prompt), samplesPerPrompt, parameters, cancellationToken: cancellationToken));
        var sequences = new List<(IReadOnlyList<int> Prompt, SampledSequence Sample, ApiFuture<ComputeLogprobsOutput> Teacher)>();
        for (int p = 0; p < prompts.Count; p++)
            foreach (var sample in (await sampled[p].ResultAsync(cancellationToken)).Sequences.Where(s => s.Tokens.Count > 0))
                sequences.Add((prompts[p], sample, await teacher.ComputeLogprobsAsync(ModelInput.FromTokens([.. prompts[p], .. sample.Tokens]), cancellationToken)));

        var data = new List<Datum>();
        double kl = 0;
        long tokens = 0;
        foreach (var (prompt, sample, teacherFuture) in sequences)
        {
            var teacherLogprobs = (await teacherFuture.ResultAsync(cancellationToken)).Logprobs;
            int n = prompt.Count + sample.Tokens.Count;
            var samplerLogprobs = new float[n];
            var advantages = new float[n];
            for (int t = 0; t < sample.Tokens.Count; t++)
            {
                double studentLogprob = sample.Logprobs[t], teacherLogprob = teacherLogprobs[prompt.Count + t]!.Value;
                samplerLogprobs[prompt.Count + t] = (float)studentLogprob;
                advantages[prompt.Count + t] = (float)-(studentLogprob - teacherLogprob);
                kl += studentLogprob - teacherLogprob;
            }
            tokens += sample.Tokens.Count;
            data.Add(Datums.ForPolicyGradient([.. prompt, .. sample.Tokens], samplerLogprobs, advantages));
        }
        return (data, kl / Math.Max(1, tokens), tokens);
    }
}
