using Whetstone.Protocol;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Loops;

/// <summary>
/// rl.correction_window_policy "adaptive": the corrections an iteration trains on are only those
/// given after the newest change the users' feedback shows. The loop's "newest" window (the newest
/// correction_window corrections) followed the eighth session's drift too late: all 64 corrections
/// of arm c's candidate trained just after the drift asked for the old taste.
///
/// The change is found by <see cref="FeedbackDriftDetector"/> (ADWIN, within users) on the
/// satisfaction score of each answer's feedback (<see cref="LoopIterationJob.Satisfaction"/>, the
/// canary's scores, averaged over the answer's events), with one detector per deployed version: the events of name@v2 and those of name@v3 are separate streams.
/// A promotion changes what the users are served on purpose, and a better version's higher scores
/// are not a change in the users; within one version's stream the answers come from one policy, so
/// a change there is a change in the users (or in who gives feedback). The cut that counts is the
/// newest over all versions' streams, and it stays after a promotion (the next version's stream
/// starting without a cut does not bring back corrections from before it).
///
/// Nothing is stored: the cut is recomputed from the deployment's stored feedback (oldest first,
/// by time then id) through the iteration's window, so an iteration redone after a restart finds
/// the same cut.
/// </summary>
internal static class AdaptiveCorrectionWindow
{
    /// <summary>A change found: <paramref name="Index"/> is the position (in the deployment's whole
    /// feedback stream) of the first event after it, served by <paramref name="Version"/> (name@vN).</summary>
    public sealed record Cut(int Index, string FeedbackId, string Version, DateTimeOffset At);

    /// <summary>The newest cut over the versions' streams, null when none changed. One value per
    /// answer (the mean score of its events, at its first event, with the user who asked), so the
    /// detector's values are independent given their users.</summary>
    public static Cut? Find(IReadOnlyList<DeploymentFeedback> events, double delta = FeedbackDriftDetector.DefaultDelta)
    {
        var answers = new Dictionary<string, int>(StringComparer.Ordinal);
        var units = new List<(int First, string Version, string? User, double Sum, int Count)>();
        for (int i = 0; i < events.Count; i++)
        {
            if (events[i].Deployment is not { } version) continue;
            double score = Math.Clamp(LoopIterationJob.Satisfaction(events[i].Feedback), 0, 1);
            if (answers.TryGetValue(events[i].Feedback.CompletionId, out int unit))
                units[unit] = units[unit] with { Sum = units[unit].Sum + score, Count = units[unit].Count + 1 };
            else
            {
                answers[events[i].Feedback.CompletionId] = units.Count;
                units.Add((i, version, events[i].User, score, 1));
            }
        }
        var streams = new Dictionary<string, (FeedbackDriftDetector Detector, List<int> Firsts)>(StringComparer.Ordinal);
        foreach (var (first, version, user, sum, count) in units)
        {
            if (!streams.TryGetValue(version, out var stream)) streams[version] = stream = (new FeedbackDriftDetector(delta), []);
            stream.Firsts.Add(first);
            stream.Detector.Add(sum / count, user);
        }
        Cut? newest = null;
        foreach (var (version, (detector, firsts)) in streams)
        {
            if (detector.Cuts == 0) continue;
            int index = firsts[detector.WindowStart];
            if (newest is null || index > newest.Index) newest = new Cut(index, events[index].Feedback.Id, version, events[index].Feedback.CreatedAt);
        }
        return newest;
    }

    /// <summary>The corrections not given before the cut (those newer than the events searched are
    /// after it too), in their order.</summary>
    public static IReadOnlyList<CorrectionExample> After(IReadOnlyList<CorrectionExample> corrections, IReadOnlyList<DeploymentFeedback> events, Cut? cut)
    {
        if (cut is null) return corrections;
        var before = events.Take(cut.Index).Select(e => e.Feedback.Id).ToHashSet(StringComparer.Ordinal);
        return corrections.Where(c => !before.Contains(c.FeedbackId)).ToArray();
    }
}
