using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Evals;

/// <summary>Named evals over the held-out split of the corpus, run through a sampling client
/// (base model or any sampler checkpoint): "arithmetic", "instruction" and "reading" sample a
/// greedy answer and compare the "Answer:" line exactly; "nll" is the mean negative
/// log-likelihood of the assistant tokens under compute_logprobs.</summary>
public static class Evaluator
{
    public static readonly string[] Sets = ["arithmetic", "multiplication", "instruction", "reading", "nll"];

    /// <summary>Enough for the corpus's arithmetic answers; a 4-digit multiplication worked digit by
    /// digit needs about 110 tokens with whet-nano's tokenizer, so it is cut off at this length.</summary>
    public const int DefaultMaxTokens = 96;

    /// <param name="maxTokens">Longest greedy reply; a reply cut off before its "Answer:" counts as wrong.</param>
    public static async Task<EvalReport> RunAsync(SamplingClient sampler, HuggingFaceTokenizer tokenizer, string set, int count, long seed = 0,
        int maxTokens = DefaultMaxTokens, CancellationToken cancellationToken = default)
    {
        if (maxTokens < 1) throw new ArgumentException($"max tokens {maxTokens}: must be ≥ 1");
        var renderer = RendererFactory.For(tokenizer);
        return set switch
        {
            "arithmetic" => await AccuracyAsync(sampler, tokenizer, renderer, set, ArithmeticTask.Name, count, seed, maxTokens, cancellationToken),
            "multiplication" => await AccuracyAsync(sampler, tokenizer, renderer, set, ArithmeticTask.MultiplicationName, count, seed, maxTokens, cancellationToken),
            "instruction" => await AccuracyAsync(sampler, tokenizer, renderer, set, InstructionTask.Name, count, seed, maxTokens, cancellationToken),
            "reading" => await AccuracyAsync(sampler, tokenizer, renderer, set, StoryTask.ReadingName, count, seed, maxTokens, cancellationToken),
            "nll" => await NllAsync(sampler, renderer, count, seed, cancellationToken),
            _ => throw new ArgumentException($"unknown eval set '{set}' (known: {string.Join(", ", Sets)})"),
        };
    }

    static async Task<EvalReport> AccuracyAsync(SamplingClient sampler, HuggingFaceTokenizer tokenizer, IRenderer renderer, string set, string task,
        int count, long seed, int maxTokens, CancellationToken cancellationToken)
    {
        var examples = CorpusGenerator.Generate(seed, heldOut: true, [task]).Take(count).ToList();
        var parameters = new SamplingParams { MaxTokens = maxTokens, Temperature = 0, StopTokenIds = renderer.StopTokenIds };
        // Submit all, then collect: the service decodes them together.
        var futures = new List<ApiFuture<SampleOutput>>();
        foreach (var example in examples)
            futures.Add(await sampler.SampleAsync(ModelInput.FromTokens(renderer.BuildGenerationPrompt(example.Prompt)), 1, parameters, cancellationToken: cancellationToken));
        int correct = 0;
        var samples = new List<string>();
        for (int i = 0; i < examples.Count; i++)
        {
            var output = await futures[i].ResultAsync(cancellationToken);
            var reply = renderer.ParseResponse(output.Sequences[0].Tokens).Content;
            bool right = Extract(reply, task) == examples[i].Answer;
            if (right) correct++;
            if (samples.Count < 3) samples.Add($"{examples[i].Messages[0].Content} → {reply} ({(right ? "right" : $"expected {examples[i].Answer}")})");
        }
        return new EvalReport(set, examples.Count, (double)correct / Math.Max(1, examples.Count), null, samples);
    }

    static string? Extract(string reply, string task)
    {
        if (task is ArithmeticTask.Name or ArithmeticTask.MultiplicationName) return ArithmeticTask.ExtractAnswer(reply);
        int at = reply.LastIndexOf("Answer:", StringComparison.Ordinal);
        return at < 0 ? null : reply[(at + "Answer:".Length)..].Trim();
    }

    static async Task<EvalReport> NllAsync(SamplingClient sampler, IRenderer renderer, int count, long seed, CancellationToken cancellationToken)
    {
        var examples = CorpusGenerator.Generate(seed, heldOut: true).Take(count).ToList();
        var rendered = examples.Select(e => renderer.BuildSupervisedExample(e.Messages, TrainOnWhat.AllAssistantMessages)).ToList();
        var futures = new List<ApiFuture<ComputeLogprobsOutput>>();
        foreach (var example in rendered)
            futures.Add(await sampler.ComputeLogprobsAsync(ModelInput.FromTokens(example.Tokens), cancellationToken));
        double nll = 0, weight = 0;
        for (int i = 0; i < rendered.Count; i++)
        {
            var logprobs = (await futures[i].ResultAsync(cancellationToken)).Logprobs;
            for (int t = 1; t < logprobs.Count; t++)
            {
                double w = rendered[i].Weights[t];
                if (w == 0 || logprobs[t] is not double lp) continue;
                nll -= w * lp;
                weight += w;
            }
        }
        return new EvalReport("nll", examples.Count, null, nll / Math.Max(1, weight), []);
    }
}
