using System.Globalization;
using Whetstone.Protocol;
using Whetstone.Service.Auth;

namespace Whetstone.Service.Loops;

/// <summary>A loop's reward of an answer: RmWeight · the deployment's reward-model score (when it
/// has one and it is trusted) + the owner's verifiable reward on the answer's text. The reward model
/// is trusted only while its prequential accuracy (each event predicted before it was trained on)
/// over its newest RmTrustWindow predictions is at least MinRmAccuracy over at least
/// MinRmPredictions: a reward model at chance would steer the policy at random.</summary>
internal sealed class LoopReward(IDeploymentRewardModel rewardModel, LoopRlSettings settings, Func<IReadOnlyList<int>, string> text, Caller caller,
    string deployment)
{
    bool? _trusted;

    /// <summary>The version of the reward model that gave the last scores (null: none used).</summary>
    public string? RmVersion { get; private set; }

    /// <summary>Why the reward model's score was used or not (after the first <see cref="ScoreAsync"/>).</summary>
    public string? TrustReason { get; private set; }

    /// <summary>The prequential accuracy the trust was judged on (NaN: no predictions yet).</summary>
    public double RmAccuracy { get; private set; } = double.NaN;

    public bool? RmTrusted => _trusted;

    public async Task<double[]> ScoreAsync(IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Answer)> pairs, CancellationToken cancellationToken)
    {
        var rewards = pairs.Select(p => Verifiable(settings.Verifiable, settings.Verifiable?.Arithmetic == true ? text(p.Prompt) : "", text(p.Answer))).ToArray();
        if (settings.RmWeight > 0 && await TrustedAsync(cancellationToken)
            && await rewardModel.ScoreAsync(caller, deployment, pairs, cancellationToken) is { } scores)
        {
            RmVersion = scores.Version;
            for (int i = 0; i < rewards.Length; i++) rewards[i] += settings.RmWeight * scores.Scores[i];
        }
        return rewards;
    }

    /// <summary>Whether answers can get different rewards at all: a verifiable reward is set, or the
    /// reward model counts and is trusted. When not, sampling groups to score is wasted work.</summary>
    public async Task<bool> CanVaryAsync(CancellationToken cancellationToken) =>
        settings.Verifiable is not null || (settings.RmWeight > 0 && await TrustedAsync(cancellationToken));

    async Task<bool> TrustedAsync(CancellationToken cancellationToken)
    {
        if (_trusted is { } known) return known;
        var (predicted, correct) = await rewardModel.RecentAccuracyAsync(caller, deployment, settings.RmTrustWindow, cancellationToken);
        RmAccuracy = predicted > 0 ? (double)correct / predicted : double.NaN;
        _trusted = Trusted(predicted, correct, settings);
        string accuracy = predicted > 0 ? RmAccuracy.ToString("F3", CultureInfo.InvariantCulture) : "n/a";
        TrustReason = $"reward model prequential accuracy {accuracy} over {predicted} predictions " +
            (_trusted.Value ? "≥" : "below") + $" the bar {settings.MinRmAccuracy} over ≥ {settings.MinRmPredictions}";
        return _trusted.Value;
    }

    /// <summary>At least MinRmPredictions predictions and an accuracy of at least MinRmAccuracy
    /// (no predictions count as accuracy 0: trusted only with both bars at 0).</summary>
    public static bool Trusted(int predicted, int correct, LoopRlSettings settings) =>
        predicted >= settings.MinRmPredictions && (predicted > 0 ? (double)correct / predicted : 0) >= settings.MinRmAccuracy;

    /// <summary>+Weight when every condition holds; 0 without a verifiable reward. The prompt's text
    /// is read only by the arithmetic condition (<see cref="ArithmeticAnswer"/>).</summary>
    public static double Verifiable(VerifiableReward? reward, string prompt, string text)
    {
        if (reward is null) return 0;
        bool ok = (!reward.Arithmetic || ArithmeticAnswer.IsRight(prompt, text))
            && (reward.MustContain is null || text.Contains(reward.MustContain, StringComparison.OrdinalIgnoreCase))
            && (reward.MustNotContain is null || !text.Contains(reward.MustNotContain, StringComparison.OrdinalIgnoreCase))
            && (reward.MaxWords is null || text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length <= reward.MaxWords);
        return ok ? reward.Weight : 0;
    }
}
