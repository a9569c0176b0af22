using System.Globalization;
using Whetstone.Protocol;

namespace Whetstone.Service.Loops;

/// <summary>One feedback event of a canary: the arm that served the answer, the user who asked (the
/// request's `user`, null when it had none) and its satisfaction score.</summary>
internal sealed record CanaryEvent(string Arm, string? User, double Score);

/// <summary>The canary's decision from the satisfaction of the feedback events on each arm since it
/// began. canary.design "sequential" (the default): <see cref="SequentialCanary"/>, a bound valid
/// however often it is looked at. "fixed" (one planned look; kept to compare with), by canary.compare:
/// "within_user" in <see cref="WithinUserCanary"/>, "events" here:
/// d = mean(candidate) − mean(stable), se = √(var_c/n_c + var_s/n_s) (sample variances,
/// floored so that a run of identical events does not claim certainty), bound d ± Z·se:
/// promote when the lower bound is at least −Tolerance, roll back when the upper bound is below it,
/// otherwise wait — until MaxMinutes, when an undecided canary (including one whose arm got no
/// traffic) is rolled back: a candidate that has not shown it is not worse does not replace the
/// deployed version.</summary>
internal static class CanaryDecision
{
    public enum Outcome { Wait, Promote, RollBack }

    public sealed record Result(Outcome Decision, string Reason, double CandidateRate, double StableRate, double Lower, double Upper)
    {
        /// <summary>Within-user: the users with feedback on both arms (0 for the events comparison).</summary>
        public int Users { get; init; }
        /// <summary>The difference the bound is around (NaN while too few events or users).</summary>
        public double Difference { get; init; } = double.NaN;
    }

    /// <summary>Per-event variance floor: a rate in [0, 1] seen over few events is never taken as exact.</summary>
    public const double VarianceFloor = 0.05;

    public static Result Decide(IReadOnlyList<CanaryEvent> events, LoopCanarySettings settings, TimeSpan elapsed) =>
        settings.Design == LoopCanarySettings.DesignSequential ? SequentialCanary.Decide(events, settings, elapsed)
        : settings.Compare == LoopCanarySettings.CompareEvents
            ? Decide(Scores(events, Serving.CanaryRouting.Candidate), Scores(events, Serving.CanaryRouting.Stable), settings, elapsed)
            : WithinUserCanary.Decide(events, settings, elapsed);

    static double[] Scores(IReadOnlyList<CanaryEvent> events, string arm) => events.Where(e => e.Arm == arm).Select(e => e.Score).ToArray();

    public static Result Decide(IReadOnlyList<double> candidate, IReadOnlyList<double> stable, LoopCanarySettings settings, TimeSpan elapsed)
    {
        double c = candidate.Count > 0 ? candidate.Average() : double.NaN, s = stable.Count > 0 ? stable.Average() : double.NaN;
        bool deadline = elapsed >= TimeSpan.FromMinutes(settings.MaxMinutes);
        string counts = $"candidate {F(c)} over {candidate.Count} events vs stable {F(s)} over {stable.Count}";
        if (candidate.Count < settings.MinEvents || stable.Count < settings.MinEvents)
            return deadline
                ? new Result(Outcome.RollBack, $"deadline {settings.MaxMinutes} min with an arm short of {settings.MinEvents} events ({counts})", c, s, double.NaN, double.NaN)
                : new Result(Outcome.Wait, counts, c, s, double.NaN, double.NaN);
        double d = c - s, se = Math.Sqrt(Variance(candidate) / candidate.Count + Variance(stable) / stable.Count);
        double lower = d - settings.Z * se, upper = d + settings.Z * se;
        string bound = $"{counts}; difference {F(d)}, bound [{F(lower)}, {F(upper)}] at z {settings.Z} against −{settings.Tolerance}";
        if (lower >= -settings.Tolerance) return new Result(Outcome.Promote, bound, c, s, lower, upper) { Difference = d };
        if (upper < -settings.Tolerance) return new Result(Outcome.RollBack, bound + " (surely worse)", c, s, lower, upper) { Difference = d };
        return deadline
            ? new Result(Outcome.RollBack, $"deadline {settings.MaxMinutes} min undecided: {bound}", c, s, lower, upper) { Difference = d }
            : new Result(Outcome.Wait, bound, c, s, lower, upper) { Difference = d };
    }

    static double Variance(IReadOnlyList<double> x)
    {
        double mean = x.Average();
        double v = x.Count > 1 ? x.Sum(v => (v - mean) * (v - mean)) / (x.Count - 1) : 0;
        return Math.Max(v, VarianceFloor);
    }

    static string F(double x) => double.IsNaN(x) ? "n/a" : x.ToString("F3", CultureInfo.InvariantCulture);
}
