using Whetstone.Cookbook.SimulatedUsers;
using Whetstone.Service.Loops;

namespace Whetstone.Service.Tests.Loops;

/// <summary>
/// The drift detector (ADWIN within users) on feedback streams drawn as the simulated population gives
/// feedback (<see cref="SimulatedFeedbackScores"/>): 12 users of the sign-off population with their own
/// habits, each round every user gets one answer, and the detector gets its events' mean score with the user. An answer pleases a user (hidden satisfaction 1.0) with
/// that user's own chance, else it has the length they do not like (0.7 — at the edge of content: thumbs up or down by the noise) — what the sign-off drift
/// flips. Its guarantee: on a stream where no user's mean changes it ever cuts with probability at
/// most δ (0.05), however long the stream.
/// </summary>
public class FeedbackDriftDetectorTests
{
    const int Users = 12;

    /// <summary>One stream: the user's chance of a liked answer is liked[u] before event changeAt's
    /// round and likedAfter[u] from it; returns the detector and where the change was (in events).</summary>
    static (FeedbackDriftDetector Detector, int ChangeAt, int FirstCutAt) Stream(int rounds, int changeRound, double[] liked, double[] likedAfter, Random random,
        bool pooled = false)
    {
        var population = new SimulatedPopulation(Users, 1, LengthTaste.SignOff);
        var detector = new FeedbackDriftDetector();
        int changeAt = -1, firstCut = -1;
        for (int round = 0; round < rounds; round++)
        {
            if (round == changeRound) changeAt = detector.Count;
            for (int u = 0; u < Users; u++)
            {
                double p = round >= changeRound ? likedAfter[u] : liked[u];
                double satisfaction = random.NextDouble() < p ? 1.0 : 0.7;
                var events = SimulatedFeedbackScores.Draw(population.Users[u].Habits, satisfaction, random).ToArray();
                // One value per answer with its user, as AdaptiveCorrectionWindow feeds it (pooled: one key for all).
                if (events.Length > 0 && detector.Add(events.Average(e => e.Score), pooled ? null : population.Users[u].Id) && firstCut < 0) firstCut = detector.Count;
            }
        }
        return (detector, changeAt, firstCut);
    }

    static double[] Chances(Random random) => Enumerable.Range(0, Users).Select(_ => 0.2 + 0.7 * random.NextDouble()).ToArray();

    [Fact]
    public void OnStationaryStreamsItCutsAtMostDeltaOfTheTime()
    {
        // 400 streams of 300 rounds (about 3,300 answers with feedback each, longer than exp8b's v2 stream). The bound is δ = 0.05 for
        // the whole stream; allowed: δ plus three binomial standard errors over 400 streams (0.033).
        const int Streams = 400;
        int cut = 0;
        for (int s = 0; s < Streams; s++)
        {
            var random = new Random(1000 + s);
            var liked = Chances(random);
            if (Stream(300, int.MaxValue, liked, liked, random).Detector.Cuts > 0) cut++;
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"cut {cut} of {Streams} stationary streams");
        double rate = cut / (double)Streams, allowed = FeedbackDriftDetector.DefaultDelta + 3 * Math.Sqrt(0.05 * 0.95 / Streams);
        Assert.True(rate <= allowed, $"cut {cut} of {Streams} stationary streams ({rate:F3}), more than δ {FeedbackDriftDetector.DefaultDelta} + 3 se");
    }

    [Fact]
    public void ADriftOfTasteLikeTheSignOffDriftIsCutSoonAfterItAndNotBeforeIt()
    {
        // The sign-off drift as DriftReplay measured it on real answers: users' scores move both ways (−0.5 to +0.4), the
        // population's mean by 0.07. Modelled: 60% of users like the served answer's length with chance 0.85, the others
        // 0.15; at the change every user's taste flips (1 − chance): each user's mean score moves by about ±0.3, the
        // population's by about 0.06.
        const int Streams = 200, ChangeRound = 150, After = 120;
        var likedBefore = Enumerable.Range(0, Users).Select(u => u % 10 < 6 ? 0.85 : 0.15).ToArray();
        var likedAfter = likedBefore.Select(p => 1 - p).ToArray();
        var delays = new List<int>();
        int found = 0, early = 0, pooledFound = 0;
        for (int s = 0; s < Streams; s++)
        {
            var (detector, changeAt, firstCut) = Stream(ChangeRound + After, ChangeRound, likedBefore, likedAfter, new Random(5000 + s));
            if (Stream(ChangeRound + After, ChangeRound, likedBefore, likedAfter, new Random(5000 + s), pooled: true).FirstCutAt > 0) pooledFound++;
            if (firstCut <= changeAt) continue;
            found++;
            delays.Add(firstCut - changeAt);
            if (detector.WindowStart < changeAt - 3 * Users) early++;
        }
        delays.Sort();
        int p90 = delays[(int)(0.9 * delays.Count)];
        TestContext.Current.TestOutputHelper?.WriteLine($"within users: cut in {found} of {Streams}, answers from the change to the cut: median {delays[delays.Count / 2]}, 90% {p90}; " +
            $"window from more than 3 rounds before the change in {early}; pooled (ADWIN's mean): cut in {pooledFound}");
        Assert.True(found >= 0.95 * Streams, $"the drift was cut within {After} rounds in only {found} of {Streams} streams");
        Assert.True(p90 <= 600, $"90% of the cuts took more than 600 answers (50 rounds) after the change ({p90})");
        Assert.True(early <= 0.05 * Streams, $"{early} of {found} windows began more than 3 rounds before the change");
        // Why within users: the same streams' population mean moves too little for ADWIN's test of the mean.
        Assert.True(pooledFound <= found / 2, $"the pooled test cut {pooledFound} of {Streams}, as often as within users ({found})");
    }
}
