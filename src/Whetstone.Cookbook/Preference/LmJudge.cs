using Whetstone.Client;
using Whetstone.Chat;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Preference;

/// <summary>
/// A reward without training: an LM judge. The judge model is asked whether an answer is
/// correct, and the score is log p("Yes") − log p("No") for its reply, both read with
/// compute_logprobs over the judge prompt followed by each word (all of the word's tokens).
/// Any sampling client works as the judge: a base model or a sampler checkpoint.
/// </summary>
public sealed class LmJudge(SamplingClient judge, HuggingFaceTokenizer tokenizer)
{
    readonly IRenderer _renderer = RendererFactory.For(tokenizer);

    public static IReadOnlyList<ChatMessage> JudgePrompt(IReadOnlyList<ChatMessage> prompt, string response) =>
    [
        ChatMessage.User($"Question: {prompt[^1].Content}\nProposed answer: {response}\nIs the proposed answer correct? Reply Yes or No."),
    ];

    public async Task<double> ScoreAsync(IReadOnlyList<ChatMessage> prompt, string response, CancellationToken cancellationToken = default)
    {
        var head = _renderer.BuildGenerationPrompt(JudgePrompt(prompt, response));
        var yes = await judge.ComputeLogprobsAsync(ModelInput.FromTokens([.. head, .. tokenizer.Encode("Yes")]), cancellationToken);
        var no = await judge.ComputeLogprobsAsync(ModelInput.FromTokens([.. head, .. tokenizer.Encode("No")]), cancellationToken);
        return Tail(await yes.ResultAsync(cancellationToken), head.Count) - Tail(await no.ResultAsync(cancellationToken), head.Count);
    }

    /// <summary>Share of pairs whose chosen answer the judge scores higher (ties count as wrong).</summary>
    public async Task<double> PairwiseAccuracyAsync(IReadOnlyList<PreferencePair> pairs, CancellationToken cancellationToken = default)
    {
        int correct = 0;
        foreach (var pair in pairs)
            if (await ScoreAsync(pair.Prompt, pair.Chosen, cancellationToken) > await ScoreAsync(pair.Prompt, pair.Rejected, cancellationToken))
                correct++;
        return (double)correct / Math.Max(1, pairs.Count);
    }

    // Σ logprob of the tokens after the judge prompt: the word's log-likelihood.
    static double Tail(ComputeLogprobsOutput output, int from) => output.Logprobs.Skip(from).Sum(l => l ?? 0);
}
