using Whetstone.Service.Auth;

namespace Whetstone.Service.Loops;

/// <summary>A deployment's reward model as a loop uses it: scores (prompt tokens, answer tokens)
/// pairs with its current version. Null when the deployment has none (yet).</summary>
internal interface IDeploymentRewardModel
{
    Task<RewardModelScores?> ScoreAsync(Caller caller, string deployment, IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs,
        CancellationToken cancellationToken);
}

/// <summary>The scores of one call and the reward-model version that gave them (for the lineage).</summary>
internal sealed record RewardModelScores(string Version, IReadOnlyList<double> Scores);

/// <summary>No reward model: loops reward by their verifiable reward alone.</summary>
internal sealed class NoRewardModel : IDeploymentRewardModel
{
    public Task<RewardModelScores?> ScoreAsync(Caller caller, string deployment, IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs,
        CancellationToken cancellationToken) => Task.FromResult<RewardModelScores?>(null);
}
