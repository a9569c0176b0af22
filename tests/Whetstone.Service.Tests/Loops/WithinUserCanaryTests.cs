using Whetstone.Protocol;
using Whetstone.Service.Loops;
using static Whetstone.Service.Loops.CanaryDecision;

namespace Whetstone.Service.Tests.Loops;

/// <summary>The within-user canary: each user is compared with themself, and its standard error
/// counts users. Expected numbers are worked out here by hand; Student's t from printed tables.</summary>
public class WithinUserCanaryTests
{
    static readonly LoopCanarySettings Settings = new() { Percent = 50, MinEvents = 4, MinUsers = 4, Tolerance = 0.05, Z = 2.0, MaxMinutes = 5, Design = LoopCanarySettings.DesignFixed };
    static readonly TimeSpan Early = TimeSpan.FromMinutes(1), Late = TimeSpan.FromMinutes(5);

    static IEnumerable<CanaryEvent> On(string user, string arm, params double[] scores) => scores.Select(s => new CanaryEvent(arm, user, s));
    static IEnumerable<CanaryEvent> Candidate(string user, params double[] scores) => On(user, "candidate", scores);
    static IEnumerable<CanaryEvent> Stable(string user, params double[] scores) => On(user, "stable", scores);

    [Fact]
    public void TheDifferenceIsTheMeanOfEachUsersOwnDifferenceAndItsErrorCountsUsers()
    {
        // Five users, two events an arm. Per-user differences 0.5, 0, 0.6, 0.1, −0.2: d = 0.2, s² = (0.09 + 0.04 + 0.16 + 0.01
        // + 0.16)/4 = 0.115 (above the floor 0.05·(1/2 + 1/2) = 0.05), se = √(0.115/5) = 0.15166. Student's t on 4 df at the
        // tail of z 2 (one-sided 0.02275) is 2.8693; the bound is d ± t·se.
        CanaryEvent[] events =
        [
            .. Stable("u1", 0.2, 0.4), .. Candidate("u1", 0.7, 0.9),
            .. Stable("u2", 0.8, 0.8), .. Candidate("u2", 0.7, 0.9),
            .. Stable("u3", 0.0, 0.2), .. Candidate("u3", 0.6, 0.8),
            .. Stable("u4", 0.6, 1.0), .. Candidate("u4", 0.9, 0.9),
            .. Stable("u5", 0.5, 0.5), .. Candidate("u5", 0.3, 0.3),
        ];
        var result = Decide(events, Settings, Early);
        double se = Math.Sqrt(0.115 / 5);
        Assert.Equal(5, result.Users);
        Assert.Equal(0.2, result.Difference, 1e-12);
        Assert.Equal(0.2 - 2.8693 * se, result.Lower, 3e-3);
        Assert.Equal(0.2 + 2.8693 * se, result.Upper, 3e-3);
        Assert.Equal(Outcome.Wait, result.Decision);   // lower −0.235: not yet shown not worse
        Assert.Contains("within-user difference 0.200", result.Reason);
        Assert.Contains("5 users on both arms", result.Reason);
    }

    [Fact]
    public void UsersWhoAllAgreeExactlyDoNotClaimCertainty()
    {
        // Four users each +0.1 over baselines 0.2, 0.5, 0.7, 0.8 (one event an arm): the differences agree exactly (s² = 0), so
        // the floor 0.05·(1/1 + 1/1) = 0.1 rules: se = √(0.1/4) = 0.158, t on 3 df at z 2 = 3.3068 → bound [−0.423, 0.623].
        double[] baselines = [0.2, 0.5, 0.7, 0.8];
        var events = baselines.SelectMany((b, i) => Stable($"u{i}", b).Concat(Candidate($"u{i}", b + 0.1))).ToArray();
        var result = Decide(events, Settings with { MinEvents = 1 }, Early);
        Assert.Equal(0.1, result.Difference, 1e-12);
        Assert.Equal(0.1 - 3.3068 * Math.Sqrt(0.1 / 4), result.Lower, 3e-3);
        Assert.Equal(Outcome.Wait, result.Decision);
        // Twelve users, eight events an arm each, all +0.1: the floor is 0.05·(1/8 + 1/8) = 0.0125, se = √(0.0125/12) = 0.0323,
        // t on 11 df = 2.2549, lower = 0.1 − 2.2549·0.0323 = 0.027 ≥ −0.05: promoted.
        var many = Enumerable.Range(0, 12).SelectMany(i => Stable($"u{i}", Enumerable.Repeat(0.1 + 0.06 * i, 8).ToArray())
            .Concat(Candidate($"u{i}", Enumerable.Repeat(0.2 + 0.06 * i, 8).ToArray()))).ToArray();
        var promoted = Decide(many, Settings, Early);
        Assert.Equal(Outcome.Promote, promoted.Decision);
        Assert.Equal(0.1 - 2.2549 * Math.Sqrt(0.0125 / 12), promoted.Lower, 2e-3);
    }

    /// <summary>Twelve users whose satisfaction differs by user (0.30 … 0.74) and never by version.
    /// Run 21's per-user split put the low ones on the candidate: compared as events, the candidate
    /// looked surely worse. Split by request, every user reaches both arms and the within-user
    /// comparison sees no difference.</summary>
    [Fact]
    public void DifferentUsersOnTheTwoArmsAreNotTakenForAWorseCandidate()
    {
        static double[] Scores(int user, int salt) => [.. Enumerable.Range(0, 4).Select(k => 0.30 + 0.04 * user + ((k + salt) % 2 == 0 ? 0.1 : -0.1))];
        // Per user: the seven least satisfied on the candidate, the five most on the stable arm (as in run 21).
        var perUser = Enumerable.Range(0, 12).SelectMany(u => On($"u{u}", u < 7 ? "candidate" : "stable", Scores(u, 0))).ToArray();
        var events = Decide(perUser, Settings with { Compare = LoopCanarySettings.CompareEvents, Split = LoopCanarySettings.SplitByUser }, Early);
        Assert.Equal(Outcome.RollBack, events.Decision);
        Assert.Contains("surely worse", events.Reason);
        Assert.Equal(0.30 + 0.04 * 3 - (0.30 + 0.04 * 9), events.Difference, 1e-9);   // −0.24: who, not which version
        // The within-user comparison never compares different people: no user has both arms, so it waits.
        Assert.Equal((Outcome.Wait, 0), (Decide(perUser, Settings, Early).Decision, Decide(perUser, Settings, Early).Users));

        // Split by request: each user's four requests on each arm, the same satisfaction on either version.
        var perRequest = Enumerable.Range(0, 12).SelectMany(u => Stable($"u{u}", Scores(u, 0)).Concat(Candidate($"u{u}", Scores(u, 1)))).ToArray();
        var within = Decide(perRequest, Settings, Early);
        Assert.Equal(0, within.Difference, 1e-12);
        Assert.Equal(12, within.Users);
        Assert.True(within.Upper >= -Settings.Tolerance, within.Reason);
        Assert.NotEqual(Outcome.RollBack, within.Decision);
        // The events comparison on the same request-split events agrees that nothing differs.
        Assert.Equal(0, Decide(perRequest, Settings with { Compare = LoopCanarySettings.CompareEvents }, Early).Difference, 1e-12);
    }

    [Fact]
    public void ACandidateWorseForEveryUserIsRolledBack()
    {
        // Twelve users each 0.2 less satisfied on the candidate than on the stable arm, over their own baselines (0.40 … 0.73),
        // with ±0.1 between requests. Floor 0.05·(1/2 + 1/3), se = √(0.0417/12) = 0.0589, t on 11 df 2.2549: upper −0.067.
        var events = Enumerable.Range(0, 12).SelectMany(u => Stable($"u{u}", 0.3 + 0.03 * u, 0.5 + 0.03 * u, 0.4 + 0.03 * u)
            .Concat(Candidate($"u{u}", 0.2 + 0.03 * u - 0.1 * (u % 2), 0.2 + 0.03 * u + 0.1 * (u % 2)))).ToArray();
        var result = Decide(events, Settings, Early);
        Assert.Equal(Outcome.RollBack, result.Decision);
        Assert.Contains("surely worse", result.Reason);
        Assert.Equal(-0.2, result.Difference, 1e-12);
        Assert.Equal(-0.2 + 2.2549 * Math.Sqrt(0.05 * (1 / 2.0 + 1 / 3.0) / 12), result.Upper, 2e-3);
    }

    [Fact]
    public void TooFewUsersOnBothArmsWaitsThenRollsBackAtTheDeadline()
    {
        // Three users with both arms (0.5 better each) and two with the candidate only: 3 < MinUsers 5.
        CanaryEvent[] events =
        [
            .. Enumerable.Range(0, 3).SelectMany(u => Stable($"u{u}", 0.2, 0.2).Concat(Candidate($"u{u}", 0.7, 0.7))),
            .. Candidate("v1", 1, 1), .. Candidate("v2", 1, 1),
            new CanaryEvent("stable", null, 0.1), new CanaryEvent("candidate", null, 0.9),
        ];
        var settings = Settings with { MinUsers = 5 };
        var early = Decide(events, settings, Early);
        Assert.Equal((Outcome.Wait, 3), (early.Decision, early.Users));
        Assert.Contains("(2 events without a user)", early.Reason);
        var late = Decide(events, settings, Late);
        Assert.Equal(Outcome.RollBack, late.Decision);
        Assert.Contains("deadline 5 min with fewer than 5 users on both arms", late.Reason);
        // An arm short of MinEvents (7 stable events < 8) is the first thing a deadline names.
        Assert.Equal(Outcome.Wait, Decide(events, settings with { MinEvents = 8 }, Early).Decision);
        Assert.Contains("with an arm short of 8 events", Decide(events, settings with { MinEvents = 8 }, Late).Reason);
    }

    [Theory]
    // Two-sided 95% points of Student's t (printed tables) at z 1.959964, and the 97.725% point on 4 df.
    [InlineData(1.959964, 3, 3.182446)]
    [InlineData(1.959964, 5, 2.570582)]
    [InlineData(1.959964, 11, 2.200985)]
    [InlineData(1.959964, 30, 2.042272)]
    [InlineData(2.0, 4, 2.8693)]
    public void StudentsTMatchesTheTables(double z, int df, double t) => Assert.Equal(t, StudentT.QuantileLike(z, df), t * 2e-3);
}
