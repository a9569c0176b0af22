using Whetstone.Protocol;
using Whetstone.Service.Auth;

namespace Whetstone.Service.Loops;

/// <summary>A loop's reward of an answer: RmWeight · the deployment's reward-model score (when it
/// has one) + the owner's verifiable reward on the answer's text.</summary>
internal sealed class LoopReward(IDeploymentRewardModel rewardModel, LoopRlSettings settings, LoopSampling sampling, Caller caller, string deployment)
{
    /// <summary>The version of the reward model that gave the last scores (null: none used).</summary>
    public string? RmVersion { get; private set; }

    public async Task<double[]> ScoreAsync(IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs, CancellationToken cancellationToken)
    {
        var rewards = pairs.Select(p => Verifiable(settings.Verifiable, sampling.Text(p.Answer))).ToArray();
        if (settings.RmWeight > 0 && await rewardModel.ScoreAsync(caller, deployment, pairs, cancellationToken) is { } scores)
        {
            RmVersion = scores.Version;
            for (int i = 0; i < rewards.Length; i++) rewards[i] += settings.RmWeight * scores.Scores[i];
        }
        return rewards;
    }

    /// <summary>+Weight when every condition holds; 0 without a verifiable reward.</summary>
    public static double Verifiable(VerifiableReward? reward, string text)
    {
        if (reward is null) return 0;
        bool ok = (reward.MustContain is null || text.Contains(reward.MustContain, StringComparison.OrdinalIgnoreCase))
            && (reward.MustNotContain is null || !text.Contains(reward.MustNotContain, StringComparison.OrdinalIgnoreCase))
            && (reward.MaxWords is null || text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length <= reward.MaxWords);
        return ok ? reward.Weight : 0;
    }
}
