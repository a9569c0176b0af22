using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Rl;

/// <summary>Episodes on held-out problems: the share the env judged correct, the mean reward and
/// the share of well-formed replies. Greedy by default; with a temperature, the mean over
/// <c>samplesPerProblem</c> seeded samples each (what the RL objective itself measures).</summary>
public static class RlEvaluation
{
    public static async Task<RlEvalReport> RunAsync(SamplingClient sampler, IReadOnlyList<EnvProblem> problems, int maxTokens,
        double temperature = 0, int samplesPerProblem = 1, CancellationToken cancellationToken = default)
    {
        var groups = problems.Select(p => (IEnvGroupBuilder)new ProblemGroupBuilder(p, samplesPerProblem)).ToArray();
        var played = await Rollouts.RunAsync(sampler, 0, groups, new SamplingParams { MaxTokens = maxTokens, Temperature = temperature }, seed: 0, cancellationToken);
        var episodes = played.SelectMany(g => g.Trajectories).ToArray();
        return new RlEvalReport(episodes.Length,
            episodes.Average(e => e.FinalMetrics.GetValueOrDefault("correct")),
            episodes.Average(e => e.TotalReward),
            episodes.Average(e => e.FinalMetrics.GetValueOrDefault("format")));
    }
}

public sealed record RlEvalReport(int Problems, double Accuracy, double Reward, double Format);
