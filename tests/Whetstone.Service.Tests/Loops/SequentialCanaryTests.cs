using Whetstone.Protocol;
using Whetstone.Service.Loops;
using static Whetstone.Service.Loops.CanaryDecision;

namespace Whetstone.Service.Tests.Loops;

/// <summary>The sequential canary: events paired by user in arrival order, an anytime-valid bound on
/// the pairs' mean difference, the error rate spent as the normal tail beyond z. Reference numbers
/// are computed here independently: the normal tail from printed tables, the bound as the point where
/// the betting capital, multiplied out one pair at a time, reaches 1/α.</summary>
public class SequentialCanaryTests
{
    static readonly LoopCanarySettings Settings = new() { Percent = 50, MinEvents = 4, MinUsers = 4, Tolerance = 0.05, Z = 2.0, MaxMinutes = 5 };
    static readonly TimeSpan Early = TimeSpan.FromMinutes(1), Late = TimeSpan.FromMinutes(5);

    [Theory]
    [InlineData(2.0, 0.022750131948179)]
    [InlineData(1.96, 0.024997895148220)]
    [InlineData(3.0, 0.001349898031630)]
    [InlineData(0.0, 0.5)]
    [InlineData(-1.0, 0.841344746068543)]
    [InlineData(6.0, 9.865876450377e-10)]
    public void TheNormalTailMatchesTables(double z, double tail) => Assert.Equal(tail, NormalTail.Upper(z), tail * 2e-7);

    /// <summary>The reference: the capital of betting λ_i on each value against a mean m, multiplied
    /// out value by value, and the m at which it is exactly 1/α, by bisection; the bets and the
    /// running mean and variance are recomputed here from the paper's definitions.</summary>
    static double ReferenceLower(IReadOnlyList<double> y, double alpha)
    {
        int n = y.Count;
        var bet = new double[n];
        var meanBefore = new double[n];
        for (int t = 0; t < n; t++)
        {
            double mean = 0.5, variance = 0.25;   // μ̂_0, σ̂²_0
            if (t > 0)
            {
                mean = (0.5 + y.Take(t).Sum()) / (t + 1);
                double squares = 0.25;
                for (int i = 0; i < t; i++) { double m = (0.5 + y.Take(i + 1).Sum()) / (i + 2); squares += (y[i] - m) * (y[i] - m); }
                variance = squares / (t + 1);
            }
            meanBefore[t] = mean;
            bet[t] = Math.Min(Math.Sqrt(2 * Math.Log(1 / alpha) / (variance * EmpiricalBernsteinSequence.TargetCount)), EmpiricalBernsteinSequence.MaxBet);
        }
        double Capital(double m)
        {
            double capital = 1;
            for (int t = 0; t < n; t++)
                capital *= Math.Exp(bet[t] * (y[t] - m) - 4 * Math.Pow(y[t] - meanBefore[t], 2) * (-Math.Log(1 - bet[t]) - bet[t]) / 4);
            return capital;
        }
        double lo = -1000, hi = 1;   // the capital falls as m rises
        for (int k = 0; k < 200; k++) { double mid = (lo + hi) / 2; if (Capital(mid) >= 1 / alpha) lo = mid; else hi = mid; }
        return lo;
    }

    [Fact]
    public void TheLowerBoundIsWhereTheBettingCapitalReachesOneOverAlpha()
    {
        // 60 values rising in mean (0.55 → 0.85 in a repeating pattern): each new value moves the bound up, so the
        // running maximum is the last count's own bound.
        var y = Enumerable.Range(0, 60).Select(i => 0.55 + 0.3 * i / 59.0 + (i % 3 - 1) * 0.1).ToArray();
        var sequence = new EmpiricalBernsteinSequence(0.0227501);
        foreach (var v in y) sequence.Add(v);
        Assert.Equal(60, sequence.Count);
        Assert.Equal(y.Average(), sequence.Mean, 1e-12);
        Assert.Equal(ReferenceLower(y, 0.0227501), sequence.Lower, 1e-9);
        // The mirror: the upper bound of 1 − y is one minus the lower bound of y (the same bets, the same penalty).
        var mirrored = new EmpiricalBernsteinSequence(0.0227501);
        foreach (var v in y) mirrored.Add(1 - v);
        Assert.Equal(1 - ReferenceLower(y, 0.0227501), mirrored.Upper, 1e-9);
        Assert.Throws<ArgumentOutOfRangeException>(() => sequence.Add(1.2));
    }

    [Fact]
    public void TheBoundNeverWidensOnceNarrowed()
    {
        // 200 values at 0.9, then 200 at 0.1: the lower bound reached during the first run is kept (the intersection).
        var sequence = new EmpiricalBernsteinSequence(0.05);
        for (int i = 0; i < 200; i++) sequence.Add(0.9);
        double high = sequence.Lower;
        Assert.InRange(high, 0.7, 0.9);
        for (int i = 0; i < 200; i++) sequence.Add(0.1);
        Assert.Equal(high, sequence.Lower);
        Assert.True(sequence.Upper < 0.9, $"upper {sequence.Upper}");
    }

    static IEnumerable<CanaryEvent> On(string user, string arm, params double[] scores) => scores.Select(s => new CanaryEvent(arm, user, s));

    [Fact]
    public void EventsArePairedWithinEachUserInArrivalOrder()
    {
        // u1: candidate 1, candidate 0.5, then stable 0 (pairs with the first candidate: +1), stable 0.75 (with the second: −0.25).
        // u2: stable 0.5 alone (no pair). Anonymous events count only towards MinEvents.
        CanaryEvent[] events =
        [
            .. On("u1", "candidate", 1, 0.5), .. On("u1", "stable", 0, 0.75), .. On("u2", "stable", 0.5),
            new("candidate", null, 1), new("candidate", null, 1), new("stable", null, 0),
        ];
        var canary = new SequentialCanary(Settings with { MinEvents = 1, MinUsers = 4 });
        foreach (var e in events) canary.Add(e);
        var result = canary.Decide(Early);
        Assert.Equal((Outcome.Wait, 1), (result.Decision, result.Users));   // one user with pairs < 4
        Assert.Contains("2 pairs from 1 users (3 events without a user)", result.Reason);
        Assert.Equal(SequentialCanary.Decide(events, Settings with { MinEvents = 1, MinUsers = 4 }, Early), result);

        // Compared as events, the two arms' streams pair as a whole, anonymous events included: candidates 1, 0.5, 1, 1
        // against stables 0, 0.75, 0.5, 0 → differences 1, −0.25, 0.5, 1.
        var whole = SequentialCanary.Decide(events, Settings with { MinEvents = 1, Compare = LoopCanarySettings.CompareEvents, Split = LoopCanarySettings.SplitByUser }, Early);
        Assert.Equal(2.25 / 4, whole.Difference, 1e-12);
        Assert.Contains("4 pairs", whole.Reason);
    }

    [Fact]
    public void ItPromotesOnceTheAnytimeBoundClearsTheMarginAndRollsBackWhenSurelyWorse()
    {
        // Six users, each pair +1 (candidate thumbs up, stable thumbs down). In the [0, 1] scale every y is 1; the bound on the
        // difference is 2·lower(y) − 1, which the reference gives pair by pair.
        double alpha = NormalTail.Upper(2.0);
        var canary = new SequentialCanary(Settings);
        var ys = new List<double>();
        int promotedAt = -1;
        for (int k = 0; k < 40 && promotedAt < 0; k++)
        {
            canary.Add(new CanaryEvent("candidate", $"u{k % 6}", 1));
            canary.Add(new CanaryEvent("stable", $"u{k % 6}", 0));
            ys.Add(1);
            var decision = canary.Decide(Early);
            double lower = 2 * Math.Max(0, ReferenceLower(ys, alpha)) - 1;   // the trivial bound 0 of a mean in [0, 1] is part of the intersection
            if (k >= 3) Assert.Equal(lower, decision.Lower, 1e-9);
            if (decision.Decision == Outcome.Promote) { promotedAt = k + 1; Assert.True(lower >= -0.05); Assert.Contains("within-user difference 1.000", decision.Reason); }
            else Assert.True(k < 3 || lower < -0.05, $"{k + 1} pairs: bound {lower} but {decision.Decision}");
        }
        Assert.InRange(promotedAt, 5, 40);

        // Surely worse: every pair −1 → rolled back once the upper bound is below −0.05, before the deadline.
        var worse = SequentialCanary.Decide([.. Enumerable.Range(0, 40).SelectMany(k => On($"u{k % 6}", "candidate", 0).Concat(On($"u{k % 6}", "stable", 1)))], Settings, Early);
        Assert.Equal(Outcome.RollBack, worse.Decision);
        Assert.Contains("surely worse", worse.Reason);

        // Undecided (pairs of +0.5 and −0.5 alternating: mean 0, wide bound): waits, then at the deadline rolls back.
        CanaryEvent[] even = [.. Enumerable.Range(0, 12).SelectMany(k => On($"u{k % 6}", "candidate", k % 2 == 0 ? 0.75 : 0.25).Concat(On($"u{k % 6}", "stable", 0.5)))];
        Assert.Equal(Outcome.Wait, SequentialCanary.Decide(even, Settings, Early).Decision);
        var late = SequentialCanary.Decide(even, Settings, Late);
        Assert.Equal(Outcome.RollBack, late.Decision);
        Assert.Contains("deadline 5 min undecided", late.Reason);
    }
}
