namespace Whetstone.Service.Loops;

/// <summary>
/// A confidence sequence for the mean of values in [0, 1] that arrive one at a time: at every
/// count t, at once and for all t, P(the mean ever leaves [Lower, Upper] on one side) ≤ α for that
/// side. Checking it after every value, stopping whenever it looks decisive, keeps that error:
/// what a fixed-sample bound checked after every event does not (the eighth session measured 17%
/// false promotions at a nominal 2.5%).
///
/// This is the predictable plug-in empirical-Bernstein sequence of Waudby-Smith and Ramdas
/// ("Estimating means of bounded random variables by betting", JRSS-B 2024, Thm 2):
/// - running mean μ̂_t = (½ + Σ y_i)/(t + 1), variance σ̂²_t = (¼ + Σ (y_i − μ̂_i)²)/(t + 1);
/// - a bet λ_t chosen from values before t only (predictable), so exp(Σ λ_i (y_i − m) − Σ v_i ψ(λ_i))
///   with v_i = 4(y_i − μ̂_{i−1})², ψ(λ) = (−ln(1 − λ) − λ)/4 is a nonnegative supermartingale
///   at the true mean m (Fan et al.'s inequality), and Ville's inequality bounds its ever reaching 1/α;
/// - hence m ≥ (Σ λ_i y_i − ln(1/α) − Σ v_i ψ(λ_i)) / Σ λ_i for all t (and the mirror for the upper side).
/// When the values' conditional means differ (users whose candidate effect differs) the same bound
/// covers the λ-weighted mean of those conditional means: if every one is at most m, so is it.
///
/// No normality and no variance known in advance: the values are bounded, the variance is
/// estimated as it goes, and the bound is exact in finite samples (conservative, never liberal).
/// λ_t = min(√(2 ln(1/α) / (σ̂²_{t−1} · TargetCount)), MaxBet): a bet tuned so the bound is tightest
/// near TargetCount values (about a 3-minute canary of the main job's 12 users), where its half-width
/// is about √(2 ln(1/α))·σ/√t (2.75 σ/√t at α 0.023, against a fixed bound's 2.0 — the price of
/// looking at every event). The bound only ever narrows: Lower and Upper are the running max and
/// min over all counts (the intersection of a confidence sequence is one too), so the decision does
/// not depend on when it is looked at.
/// </summary>
internal sealed class EmpiricalBernsteinSequence(double alpha)
{
    /// <summary>Where the bet is tuned: the bound is tightest at about this many values.</summary>
    public const int TargetCount = 500;
    /// <summary>The largest bet (Waudby-Smith and Ramdas use ½ or ¾): a few identical values never
    /// stake everything.</summary>
    public const double MaxBet = 0.75;

    readonly double logOneOverAlpha = Math.Log(1 / alpha);
    double sum = 0.5, mean = 0.5, squares = 0.25, variance = 0.25;   // the ½ and ¼ priors at t = 0
    double betSum, weightedSum, penalty;

    public int Count { get; private set; }
    /// <summary>The plain running mean of the values (NaN before the first).</summary>
    public double Mean => Count == 0 ? double.NaN : (sum - 0.5) / Count;
    public double Lower { get; private set; } = 0;
    public double Upper { get; private set; } = 1;

    public void Add(double y)
    {
        if (!(y >= 0 && y <= 1)) throw new ArgumentOutOfRangeException(nameof(y), y, "the sequence takes values in [0, 1]");
        double bet = Math.Min(Math.Sqrt(2 * logOneOverAlpha / (variance * TargetCount)), MaxBet);   // from values before this one only
        penalty += (y - mean) * (y - mean) * (-Math.Log(1 - bet) - bet);   // v·ψ(λ) = 4(y − μ̂)² · (−ln(1 − λ) − λ)/4
        betSum += bet;
        weightedSum += bet * y;
        Count++;
        sum += y;
        mean = sum / (Count + 1);
        squares += (y - mean) * (y - mean);
        variance = squares / (Count + 1);
        double center = weightedSum / betSum, halfWidth = (logOneOverAlpha + penalty) / betSum;
        Lower = Math.Max(Lower, center - halfWidth);
        Upper = Math.Min(Upper, center + halfWidth);
    }
}
