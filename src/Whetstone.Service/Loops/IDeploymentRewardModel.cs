using Whetstone.Service.Auth;

namespace Whetstone.Service.Loops;

/// <summary>A deployment's reward model as a loop uses it: scores (prompt tokens, answer tokens)
/// pairs with its current version. Null when the deployment has none (yet).</summary>
internal interface IDeploymentRewardModel
{
    Task<RewardModelScores?> ScoreAsync(Caller caller, string deployment, IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs,
        CancellationToken cancellationToken);

    /// <summary>Trains the reward model on the feedback waiting for it (so the iteration's window is
    /// in it before it rewards rollouts); returns the version it is at, null without a reward model.</summary>
    Task<string?> CatchUpAsync(Caller caller, string deployment, CancellationToken cancellationToken);

    /// <summary>Of its newest <paramref name="window"/> prequential predictions, how many there are
    /// and how many were right ((0, 0) without a reward model).</summary>
    Task<(int Predicted, int Correct)> RecentAccuracyAsync(Caller caller, string deployment, int window, CancellationToken cancellationToken);

    /// <summary>The users' corrections among the feedback the reward model has trained on, oldest
    /// first (none without a reward model).</summary>
    Task<IReadOnlyList<Protocol.CorrectionExample>> TrainedCorrectionsAsync(Caller caller, string deployment, CancellationToken cancellationToken);
}

/// <summary>The scores of one call and the reward-model version that gave them (for the lineage).</summary>
internal sealed record RewardModelScores(string Version, IReadOnlyList<double> Scores);

/// <summary>No reward model: loops reward by their verifiable reward alone.</summary>
internal sealed class NoRewardModel : IDeploymentRewardModel
{
    public Task<RewardModelScores?> ScoreAsync(Caller caller, string deployment, IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs,
        CancellationToken cancellationToken) => Task.FromResult<RewardModelScores?>(null);

    public Task<string?> CatchUpAsync(Caller caller, string deployment, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    public Task<(int Predicted, int Correct)> RecentAccuracyAsync(Caller caller, string deployment, int window, CancellationToken cancellationToken) =>
        Task.FromResult((0, 0));

    public Task<IReadOnlyList<Protocol.CorrectionExample>> TrainedCorrectionsAsync(Caller caller, string deployment, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<Protocol.CorrectionExample>>([]);
}
