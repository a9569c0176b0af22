using Whetstone.Service.Auth;
using Whetstone.Service.Experience.RewardModels;

namespace Whetstone.Service.Loops;

/// <summary>A loop's reward model: the deployment's streaming reward model
/// (<see cref="RewardModelService"/>), when the owner created one; versions are named rm-vN.</summary>
internal sealed class StreamingRewardModel(RewardModelService models) : IDeploymentRewardModel
{
    /// <summary>Micro-batch updates one catch-up may run (each takes up to the model's batch_events).</summary>
    const int MaxCatchUpUpdates = 32;

    public async Task<RewardModelScores?> ScoreAsync(Caller caller, string deployment,
        IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs, CancellationToken cancellationToken)
    {
        if (await models.CurrentVersionAsync(caller, deployment, cancellationToken) is null) return null;
        var (version, scores) = await models.ScoreWithVersionAsync(caller, deployment, pairs, cancellationToken);
        return new RewardModelScores(Name(version), scores);
    }

    public async Task<string?> CatchUpAsync(Caller caller, string deployment, CancellationToken cancellationToken)
    {
        if (await models.CurrentVersionAsync(caller, deployment, cancellationToken) is null) return null;
        for (int i = 0; i < MaxCatchUpUpdates && await models.UpdateNowAsync(caller, deployment, cancellationToken) is not null; i++) { }
        return (await models.CurrentVersionAsync(caller, deployment, cancellationToken)) is { } v ? Name(v.Version) : null;
    }

    public async Task<(int Predicted, int Correct)> RecentAccuracyAsync(Caller caller, string deployment, int window, CancellationToken cancellationToken)
    {
        if (await models.CurrentVersionAsync(caller, deployment, cancellationToken) is null) return (0, 0);
        return await models.RecentAccuracyAsync(caller, deployment, window, cancellationToken);
    }

    public async Task<IReadOnlyList<Protocol.CorrectionExample>> TrainedCorrectionsAsync(Caller caller, string deployment, CancellationToken cancellationToken)
    {
        if (await models.CurrentVersionAsync(caller, deployment, cancellationToken) is null) return [];
        var trained = (await models.VersionsAsync(caller, deployment, cancellationToken)).SelectMany(v => v.FeedbackIds).ToHashSet();
        return (await models.CorrectionsAsync(caller, deployment, cancellationToken)).Where(c => trained.Contains(c.FeedbackId)).ToArray();
    }

    static string Name(int version) => $"rm-v{version}";
}
