using System.Globalization;
using System.Text.Json;
using Whetstone.Cookbook.SimulatedUsers;
using Whetstone.Service.Loops;
using Xunit;

namespace Whetstone.Service.Tests.Loops;

/// <summary>
/// What the adaptive correction window would have done in the three-arm runs. The runs did not keep
/// their per-event feedback (rounds.jsonl has each round's mean hidden satisfaction, the log each
/// round's event count), so their streams are drawn again: the seed-1 population of 12 users
/// (sign-off taste) asking, round after round, the questions of the eighth session's offline
/// evaluations (8 rounds of 12), answered by what v1 and four promoted-kind candidates really wrote
/// there (docs/results/experiential-loop/s8/main-job-defaults-N-offline-*.jsonl), with feedback drawn
/// by the simulator's rules (<see cref="SimulatedFeedbackScores"/>). v1 serves until the promotion
/// round, the candidate after it; the users drift at the drift round. Each (candidate, seed) is one
/// stream; the detector runs on each version's stream as the loop runs it (<see cref="AdaptiveCorrectionWindow"/>).
///
/// As a test it replays the exp8b shape with 10 feedback seeds a candidate and asserts what the
/// results doc reports: no cut before the drift beyond the detector's error (δ = 0.05 a stream), a
/// cut after it in at least 9 of 10 streams, within 60 rounds (median). The results doc's table (200
/// seeds, both shapes): WHET_DRIFT_REPLAY_SEEDS=200 Whetstone.Service.Tests -method
/// Whetstone.Service.Tests.Loops.DriftReplay.AdaptiveWindowCutsAfterTheReplayedDriftAndNeverBefore -showLiveOutput
/// </summary>
public class DriftReplay(ITestOutputHelper output)
{
    sealed record Line(int Round, string User, string Question, string Answer);

    [Fact]
    public void AdaptiveWindowCutsAfterTheReplayedDriftAndNeverBefore()
    {
        string dir = Path.Combine(RepositoryRoot.Path, "docs", "results", "experiential-loop", "s8");
        var v1 = Load(Directory.GetFiles(dir, "main-job-defaults-1-offline-v1.jsonl").Single());
        var candidates = Directory.GetFiles(dir, "main-job-defaults-*-offline-loop-*.jsonl").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(4, candidates.Length);
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("WHET_DRIFT_REPLAY_SEEDS"), CultureInfo.InvariantCulture, out int n) ? n : 10;
        var shapes = new[] { ("exp8b", 25, 180, 360), ("exp9b-shape", 22, 60, 140) }.Take(seeds > 10 ? 2 : 1);
        int falseCuts = 0, streams = 0;
        foreach (var (name, promotedAt, driftAt, rounds) in shapes)
        {
            output.WriteLine($"## {name}: v1 rounds 0-{promotedAt - 1}, candidate from round {promotedAt}, drift at round {driftAt}, {rounds} rounds, {seeds} feedback seeds a candidate");
            foreach (var file in candidates)
            {
                var candidate = Load(file);
                var results = Enumerable.Range(0, seeds).Select(seed => Run(v1, candidate, promotedAt, driftAt, rounds, seed)).ToArray();
                var found = results.Where(r => r.DetectedRound >= driftAt).ToArray();
                if (name == "exp8b")
                {
                    falseCuts += results.Count(r => r.DetectedRound >= 0 && r.DetectedRound < driftAt) + results.Count(r => r.V1Cut);
                    streams += 2 * seeds;
                    Assert.True(found.Length >= 0.9 * seeds, $"{Path.GetFileName(file)}: cut after the drift in {found.Length} of {seeds}");
                    Assert.True(found.Select(r => r.DetectedRound - driftAt).Order().ElementAt(found.Length / 2) <= 60, $"{Path.GetFileName(file)}: median rounds to the cut");
                }
                output.WriteLine($"{Path.GetFileName(file)}: hidden satisfaction before/after the drift {F(results.Average(r => r.SatisfactionBefore))}/{F(results.Average(r => r.SatisfactionAfter))}, " +
                    $"score mean {F(results.Average(r => r.ScoreBefore))}/{F(results.Average(r => r.ScoreAfter))}, events a round {F(results.Average(r => r.EventsPerRound))}, corrections a round {F(results.Average(r => r.CorrectionsPerRound))}");
                if (Environment.GetEnvironmentVariable("WHET_DRIFT_REPLAY_USERS") is "1")
                    output.WriteLine("  per user, mean answer score before/after: " + string.Join(", ", Enumerable.Range(0, 12).Select(u =>
                        $"{F(results.Average(r => r.UserBefore[u]))}/{F(results.Average(r => r.UserAfter[u]))}")));
                output.WriteLine($"  cut before the drift in {results.Count(r => r.DetectedRound >= 0 && r.DetectedRound < driftAt)} of {seeds} (v1's stream {results.Count(r => r.V1Cut)}); " +
                    $"cut after it, by round {rounds}, in {found.Length} of {seeds}");
                var pooledFound = results.Where(r => r.PooledDetectedRound >= driftAt).Select(r => r.PooledDetectedRound - driftAt).ToArray();
                output.WriteLine($"  pooled (one key, ADWIN's test of the mean): cut before the drift in {results.Count(r => r.PooledDetectedRound >= 0 && r.PooledDetectedRound < driftAt)}, " +
                    $"after it in {pooledFound.Length} of {seeds}, median rounds from the drift {Q(pooledFound, 0.5)}");
                if (found.Length == 0) continue;
                output.WriteLine($"  rounds from the drift to the cut: median {Q(found.Select(r => r.DetectedRound - driftAt), 0.5)}, 10-90% {Q(found.Select(r => r.DetectedRound - driftAt), 0.1)}-{Q(found.Select(r => r.DetectedRound - driftAt), 0.9)}; " +
                    $"answers with feedback {Q(found.Select(r => r.AnswersToDetect), 0.5)} ({Q(found.Select(r => r.AnswersToDetect), 0.1)}-{Q(found.Select(r => r.AnswersToDetect), 0.9)}); " +
                    $"the cut's first event at round drift{Signed(Q(found.Select(r => r.CutRound - driftAt), 0.5))} (10-90% {Signed(Q(found.Select(r => r.CutRound - driftAt), 0.1))} to {Signed(Q(found.Select(r => r.CutRound - driftAt), 0.9))})");
                output.WriteLine($"  at the cut: corrections after it {Q(found.Select(r => r.CorrectionsAfterCut), 0.5)} (10-90% {Q(found.Select(r => r.CorrectionsAfterCut), 0.1)}-{Q(found.Select(r => r.CorrectionsAfterCut), 0.9)}), " +
                    $"of which after the drift {F(found.Sum(r => r.CorrectionsAfterCutAfterDrift) / (double)Math.Max(1, found.Sum(r => r.CorrectionsAfterCut)))}; " +
                    $"the newest 64 then hold {Q(found.Select(r => r.Newest64AfterDrift), 0.5)} (10-90% {Q(found.Select(r => r.Newest64AfterDrift), 0.1)}-{Q(found.Select(r => r.Newest64AfterDrift), 0.9)}) from after the drift");
                output.WriteLine($"  first round with 32 post-drift corrections among the window's: newest 64 drift{Signed(Q(results.Select(r => r.Newest32Round - driftAt), 0.5))}, " +
                    $"adaptive drift{Signed(Q(results.Where(r => r.Adaptive32Round >= 0).Select(r => r.Adaptive32Round - driftAt), 0.5))} (median; the adaptive window's 32 all postdate the cut); " +
                    $"newest 64 all post-drift at drift{Signed(Q(results.Select(r => r.Newest64AllRound - driftAt), 0.5))}");
            }
        }
        // The detector spends δ = 0.05 a stream over its whole length; these seeds are fixed, so the count is exact and repeatable.
        Assert.True(falseCuts <= 0.05 * streams, $"{falseCuts} cuts before the drift in {streams} streams");
    }

    sealed record Outcome(double SatisfactionBefore, double SatisfactionAfter, double ScoreBefore, double ScoreAfter, double EventsPerRound, double CorrectionsPerRound,
        bool V1Cut, int DetectedRound, int AnswersToDetect, int CutRound, int CorrectionsAfterCut, int CorrectionsAfterCutAfterDrift, int Newest64AfterDrift,
        int Newest32Round, int Adaptive32Round, int Newest64AllRound)
    {
        public int PooledDetectedRound { get; init; }
        public double[] UserBefore { get; init; } = [];
        public double[] UserAfter { get; init; } = [];
    }

    static Outcome Run(IReadOnlyList<Line> v1, IReadOnlyList<Line> candidate, int promotedAt, int driftAt, int rounds, int seed)
    {
        var population = new SimulatedPopulation(12, 1, LengthTaste.SignOff);
        var random = new Random(seed);
        FeedbackDriftDetector v1Detector = new(), detector = new(), pooled = new();   // pooled: one key for all users, ADWIN's test of the mean
        int pooledDetected = -1;
        var unitRound = new List<int>();             // the candidate stream's answers with feedback, by round
        var corrections = new List<(int Round, int Event)>();   // every correction (both versions), oldest first
        double[] satisfaction = [0, 0], score = [0, 0];
        int[] answers = [0, 0], scored = [0, 0];
        double[][] userSum = [new double[12], new double[12]], userCount = [new double[12], new double[12]];
        int detected = -1, answersToDetect = -1, cutRound = -1, newest32 = rounds, adaptive32 = -1, newest64All = rounds;
        int correctionsAfterCut = 0, correctionsAfterCutAfterDrift = 0, newest64AfterDrift = 0, totalEvents = 0;
        for (int round = 0; round < rounds; round++)
        {
            if (round == driftAt) population.Drift();
            bool onCandidate = round >= promotedAt;
            var answerSet = onCandidate ? candidate : v1;
            foreach (var user in population.Users)
            {
                var line = answerSet.First(l => l.User == user.Id && l.Round == round % 8);
                double s = user.Satisfaction(new UserQuestion(line.Question, Expected(line.Question)), line.Answer);
                int phase = round >= driftAt ? 1 : 0;
                if (onCandidate) { satisfaction[phase] += s; answers[phase]++; }
                var drawn = SimulatedFeedbackScores.Draw(user.Habits, s, random).ToArray();
                if (onCandidate && drawn.Length > 0)
                {
                    int u = int.Parse(user.Id[(user.Id.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);
                    userSum[phase][u] += drawn.Average(e => e.Score);
                    userCount[phase][u]++;
                }
                foreach (var e in drawn)
                {
                    totalEvents++;
                    if (e.Correction) corrections.Add((round, totalEvents));
                    if (onCandidate) { score[phase] += e.Score; scored[phase]++; }
                }
                if (drawn.Length == 0) continue;
                // One value per answer, with its user (as AdaptiveCorrectionWindow feeds the detector).
                double value = drawn.Average(e => e.Score);
                if (!onCandidate) { v1Detector.Add(value, user.Id); continue; }
                int before = detector.Cuts;
                if (pooled.Add(value) && pooledDetected < 0) pooledDetected = round;
                unitRound.Add(round);
                detector.Add(value, user.Id);
                if (detector.Cuts > before && detected < 0)
                {
                    detected = round;
                    answersToDetect = unitRound.Count(r => r >= driftAt);
                }
            }
            // The windows at the end of this round.
            var newest = corrections.TakeLast(64).ToArray();
            int newestAfterDrift = newest.Count(c => c.Round >= driftAt);
            if (round >= driftAt && newestAfterDrift >= 32 && newest32 == rounds) newest32 = round;
            if (round >= driftAt && newestAfterDrift == newest.Length && newest.Length >= 32 && newest64All == rounds) newest64All = round;
            if (detector.Cuts > 0)
            {
                int cutAt = unitRound[detector.WindowStart];
                // The cut is an event of the candidate's stream: corrections at or after its round (both versions' streams interleave within a round; by round is exact enough here).
                var kept = corrections.Where(c => c.Round >= cutAt).TakeLast(64).ToArray();
                if (round == detected)
                {
                    cutRound = cutAt;
                    correctionsAfterCut = kept.Length;
                    correctionsAfterCutAfterDrift = kept.Count(c => c.Round >= driftAt);
                    newest64AfterDrift = newestAfterDrift;
                }
                if (adaptive32 < 0 && round >= driftAt && kept.Length >= 32) adaptive32 = round;
            }
        }
        return new Outcome(satisfaction[0] / Math.Max(1, answers[0]), satisfaction[1] / Math.Max(1, answers[1]), score[0] / Math.Max(1, scored[0]), score[1] / Math.Max(1, scored[1]),
            totalEvents / (double)rounds, corrections.Count / (double)rounds, v1Detector.Cuts > 0, detected, answersToDetect, cutRound, correctionsAfterCut, correctionsAfterCutAfterDrift,
            newest64AfterDrift, newest32, adaptive32, newest64All)
        {
            PooledDetectedRound = pooledDetected,
            UserBefore = [.. Enumerable.Range(0, 12).Select(u => userSum[0][u] / Math.Max(1, userCount[0][u]))],
            UserAfter = [.. Enumerable.Range(0, 12).Select(u => userSum[1][u] / Math.Max(1, userCount[1][u]))],
        };
    }

    static IReadOnlyList<Line> Load(string path) => File.ReadLines(path).Where(l => l.Length > 0).Select(l =>
    {
        var j = JsonDocument.Parse(l).RootElement;
        return new Line(j.GetProperty("round").GetInt32(), j.GetProperty("User").GetString()!, j.GetProperty("Question").GetString()!, j.GetProperty("Answer").GetString()!);
    }).ToArray();

    /// <summary>"What is 57 + 68?" → "125".</summary>
    static string Expected(string question)
    {
        var parts = question["What is ".Length..].TrimEnd('?').Split(' ');
        int a = int.Parse(parts[0], CultureInfo.InvariantCulture), b = int.Parse(parts[2], CultureInfo.InvariantCulture);
        return (parts[1] == "+" ? a + b : a - b).ToString(CultureInfo.InvariantCulture);
    }

    static string Q(IEnumerable<int> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? "n/a" : sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))].ToString(CultureInfo.InvariantCulture);
    }

    static string Signed(string value) => value.StartsWith('-') || value == "n/a" ? value : "+" + value;
    static string F(double x) => x.ToString("F3", CultureInfo.InvariantCulture);
}
