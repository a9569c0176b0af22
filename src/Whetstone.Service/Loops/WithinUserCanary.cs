using System.Globalization;
using Whetstone.Protocol;
using static Whetstone.Service.Loops.CanaryDecision;

namespace Whetstone.Service.Loops;

/// <summary>The canary's decision compared within users (canary.compare "within_user"): for each
/// user with feedback on both arms, D = (that user's mean score on the candidate) − (their mean on
/// the stable arm); d = the mean of D over those n users, se = √(max(s², floor) / n) with s² the
/// sample variance of the D's. Users differ in how satisfied they are far more than two candidates
/// do (run 21: one arm's users at 0.41, the other's at 0.67, on the same version), so comparing a
/// user with themself takes that out, and counting users, not events, keeps one user's many
/// events from passing as independent evidence. The floor is the mean over users of
/// VarianceFloor·(1/k_c + 1/k_s), the least sampling noise of a difference of a k_c- and a
/// k_s-event mean: n users who happen to agree exactly never claim certainty. The bound is
/// d ± t·se, t the Student quantile on n − 1 degrees of freedom at the tail of Z (<see cref="StudentT"/>).
/// Events without a user cannot be paired and only count towards MinEvents.</summary>
internal static class WithinUserCanary
{
    public static Result Decide(IReadOnlyList<CanaryEvent> events, LoopCanarySettings settings, TimeSpan elapsed)
    {
        var candidate = events.Where(e => e.Arm == Serving.CanaryRouting.Candidate).ToArray();
        var stable = events.Where(e => e.Arm == Serving.CanaryRouting.Stable).ToArray();
        double c = candidate.Length > 0 ? candidate.Average(e => e.Score) : double.NaN, s = stable.Length > 0 ? stable.Average(e => e.Score) : double.NaN;
        var pairs = events.Where(e => e.User is not null).GroupBy(e => e.User!)
            .Select(g => (Candidate: g.Where(e => e.Arm == Serving.CanaryRouting.Candidate).Select(e => e.Score).ToArray(),
                          Stable: g.Where(e => e.Arm == Serving.CanaryRouting.Stable).Select(e => e.Score).ToArray()))
            .Where(p => p.Candidate.Length > 0 && p.Stable.Length > 0).ToArray();
        int n = pairs.Length, anonymous = events.Count(e => e.User is null);
        bool deadline = elapsed >= TimeSpan.FromMinutes(settings.MaxMinutes);
        string counts = $"candidate {F(c)} over {candidate.Length} events vs stable {F(s)} over {stable.Length}; {n} users on both arms" +
            (anonymous > 0 ? $" ({anonymous} events without a user)" : "");
        Result Undecided(string what) => deadline
            ? new Result(Outcome.RollBack, $"deadline {settings.MaxMinutes} min with {what} ({counts})", c, s, double.NaN, double.NaN) { Users = n }
            : new Result(Outcome.Wait, counts, c, s, double.NaN, double.NaN) { Users = n };
        if (candidate.Length < settings.MinEvents || stable.Length < settings.MinEvents) return Undecided($"an arm short of {settings.MinEvents} events");
        if (n < settings.MinUsers) return Undecided($"fewer than {settings.MinUsers} users on both arms");

        var differences = pairs.Select(p => p.Candidate.Average() - p.Stable.Average()).ToArray();
        double d = differences.Average();
        double spread = differences.Sum(x => (x - d) * (x - d)) / (n - 1);
        double floor = pairs.Average(p => VarianceFloor * (1.0 / p.Candidate.Length + 1.0 / p.Stable.Length));
        double se = Math.Sqrt(Math.Max(spread, floor) / n), t = StudentT.QuantileLike(settings.Z, n - 1);
        double lower = d - t * se, upper = d + t * se;
        string bound = $"{counts}; within-user difference {F(d)} (se {F(se)}), bound [{F(lower)}, {F(upper)}] at z {settings.Z} " +
            $"(t {F(t)} on {n - 1} df) against −{settings.Tolerance}";
        var result = new Result(Outcome.Wait, bound, c, s, lower, upper) { Users = n, Difference = d };
        if (lower >= -settings.Tolerance) return result with { Decision = Outcome.Promote };
        if (upper < -settings.Tolerance) return result with { Decision = Outcome.RollBack, Reason = bound + " (surely worse)" };
        return deadline ? result with { Decision = Outcome.RollBack, Reason = $"deadline {settings.MaxMinutes} min undecided: {bound}" } : result;
    }

    static string F(double x) => double.IsNaN(x) ? "n/a" : x.ToString("F3", CultureInfo.InvariantCulture);
}
