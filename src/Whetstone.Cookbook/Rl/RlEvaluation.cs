using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Rl;

/// <summary>Greedy episodes on held-out problems: the share the env judged correct, the mean
/// reward and the share of well-formed replies.</summary>
public static class RlEvaluation
{
    public static async Task<RlEvalReport> RunAsync(SamplingClient sampler, IReadOnlyList<EnvProblem> problems, int maxTokens, CancellationToken cancellationToken = default)
    {
        var groups = problems.Select(p => (IEnvGroupBuilder)new ProblemGroupBuilder(p, 1)).ToArray();
        var played = await Rollouts.RunAsync(sampler, 0, groups, new SamplingParams { MaxTokens = maxTokens, Temperature = 0 }, seed: 0, cancellationToken);
        var episodes = played.SelectMany(g => g.Trajectories).ToArray();
        return new RlEvalReport(episodes.Length,
            episodes.Average(e => e.FinalMetrics.GetValueOrDefault("correct")),
            episodes.Average(e => e.TotalReward),
            episodes.Average(e => e.FinalMetrics.GetValueOrDefault("format")));
    }
}

public sealed record RlEvalReport(int Problems, double Accuracy, double Reward, double Format);
