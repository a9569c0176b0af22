namespace Whetstone.Cookbook.Preference;

/// <summary>
/// Direct Preference Optimization (Rafailov et al. 2023) over pairs laid out [chosen, rejected]:
/// z = β[(log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))], L = mean over pairs of −log σ(z),
/// where log π(·) sums the response tokens' logprobs. Computed on the client; the gradient goes
/// back per token as dL/dlogp = ∓β(1 − σ(z)) · weight / pairs, applied through the surrogate.
/// The mean over pairs (as TRL does) keeps the learning rate independent of the batch size.
/// </summary>
public static class DpoLoss
{
    public const double DefaultBeta = 0.1;

    public sealed record Result(double Loss, IReadOnlyList<float[]> LogprobGradients, DpoMetrics Metrics);

    /// <param name="logprobs">Per datum, the policy's per-token logprobs.</param>
    /// <param name="masks">Per datum, the response's token weights (0 for prompt tokens).</param>
    /// <param name="referenceLogprobs">Per datum, the reference policy's Σ logprob · weight.</param>
    public static Result Compute(IReadOnlyList<float[]> logprobs, IReadOnlyList<IReadOnlyList<double>> masks,
        IReadOnlyList<double> referenceLogprobs, double beta = DefaultBeta)
    {
        if (logprobs.Count % 2 != 0 || logprobs.Count == 0)
            throw new ArgumentException($"DPO needs [chosen, rejected] pairs: got {logprobs.Count} data");
        if (masks.Count != logprobs.Count || referenceLogprobs.Count != logprobs.Count)
            throw new ArgumentException($"{logprobs.Count} logprobs, {masks.Count} masks and {referenceLogprobs.Count} reference logprobs must match");
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "β must be positive");
        int pairs = logprobs.Count / 2;
        var gradients = new float[logprobs.Count][];
        double loss = 0, correct = 0, margin = 0, chosenReward = 0, rejectedReward = 0;
        for (int p = 0; p < pairs; p++)
        {
            int c = 2 * p, r = 2 * p + 1;
            double chosen = beta * (PreferenceDatums.ResponseLogprob(logprobs[c], masks[c]) - referenceLogprobs[c]);
            double rejected = beta * (PreferenceDatums.ResponseLogprob(logprobs[r], masks[r]) - referenceLogprobs[r]);
            double z = chosen - rejected;
            loss += Softplus(-z);                       // −log σ(z), stable for large |z|
            double dLdz = -Sigmoid(-z) / pairs;          // d(−log σ(z))/dz = −(1 − σ(z)) = −σ(−z)
            gradients[c] = Scaled(masks[c], dLdz * beta);
            gradients[r] = Scaled(masks[r], -dLdz * beta);
            if (z > 0) correct++;
            margin += z;
            chosenReward += chosen;
            rejectedReward += rejected;
        }
        return new Result(loss / pairs, gradients,
            new DpoMetrics(loss / pairs, correct / pairs, margin / pairs, chosenReward / pairs, rejectedReward / pairs));
    }

    static float[] Scaled(IReadOnlyList<double> mask, double factor) => mask.Select(w => (float)(w * factor)).ToArray();

    static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    static double Softplus(double x) => x > 0 ? x + double.LogP1(Math.Exp(-x)) : double.LogP1(Math.Exp(x));
}

/// <summary>DPO's usual metrics over a batch: mean loss, the share of pairs whose implicit reward
/// ranks the chosen answer first (accuracy), the mean reward margin z, and the mean implicit
/// rewards β(log π − log π_ref) of the chosen and rejected answers.</summary>
public sealed record DpoMetrics(double Loss, double Accuracy, double Margin, double ChosenReward, double RejectedReward);
