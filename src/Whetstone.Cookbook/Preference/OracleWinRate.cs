using Whetstone.Client;
using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Preference;

/// <summary>Win-rate of one policy against another on held-out questions, judged by the oracle
/// (<see cref="OracleAnswer"/>): both answer each question greedily; the candidate wins where
/// only it is right, loses where only the baseline is, and ties otherwise (counted as half).</summary>
public static class OracleWinRate
{
    public sealed record Report(int Questions, int Wins, int Losses, int Ties, double CandidateAccuracy, double BaselineAccuracy)
    {
        public double WinRate => (Wins + 0.5 * Ties) / Math.Max(1, Questions);
    }

    public static async Task<Report> RunAsync(SamplingClient candidate, SamplingClient baseline, IRenderer renderer,
        IReadOnlyList<ChatExample> questions, int maxTokens, CancellationToken cancellationToken = default)
    {
        var a = (await GreedyRepliesAsync(candidate, renderer, questions, maxTokens, cancellationToken)).Select((r, i) => OracleAnswer.IsCorrect(questions[i], r)).ToArray();
        var b = (await GreedyRepliesAsync(baseline, renderer, questions, maxTokens, cancellationToken)).Select((r, i) => OracleAnswer.IsCorrect(questions[i], r)).ToArray();
        int wins = 0, losses = 0;
        for (int i = 0; i < questions.Count; i++)
        {
            if (a[i] && !b[i]) wins++;
            if (b[i] && !a[i]) losses++;
        }
        return new Report(questions.Count, wins, losses, questions.Count - wins - losses,
            a.Count(x => x) / (double)Math.Max(1, questions.Count), b.Count(x => x) / (double)Math.Max(1, questions.Count));
    }

    /// <summary>Each question's greedy reply (its text), all requests submitted before any is awaited.</summary>
    public static async Task<string[]> GreedyRepliesAsync(SamplingClient sampler, IRenderer renderer, IReadOnlyList<ChatExample> questions, int maxTokens,
        CancellationToken cancellationToken = default)
    {
        var parameters = new SamplingParams { MaxTokens = maxTokens, Temperature = 0, StopTokenIds = renderer.StopTokenIds };
        var futures = new List<ApiFuture<SampleOutput>>();
        foreach (var question in questions)
            futures.Add(await sampler.SampleAsync(ModelInput.FromTokens(renderer.BuildGenerationPrompt(question.Prompt)), 1, parameters, cancellationToken: cancellationToken));
        var replies = new string[questions.Count];
        for (int i = 0; i < questions.Count; i++)
            replies[i] = renderer.ParseResponse((await futures[i].ResultAsync(cancellationToken)).Sequences[0].Tokens).Content;
        return replies;
    }
}
