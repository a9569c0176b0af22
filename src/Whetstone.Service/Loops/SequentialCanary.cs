using System.Globalization;
using Whetstone.Protocol;
using static Whetstone.Service.Loops.CanaryDecision;

namespace Whetstone.Service.Loops;

/// <summary>
/// The canary's sequential decision (canary.design "sequential", the default). The loop looks at
/// its canary after every feedback event and stops at the first decisive look, so its bound must
/// hold at every look at once, not at one planned sample size: a fixed z-2 bound looked at after
/// every event promoted 17% of candidates exactly at the margin (nominal 2.5%).
///
/// Events are paired in arrival order: a user's k-th unpaired candidate event with that same user's
/// k-th unpaired stable event (compare "within_user"; "events" pairs the two arms' streams as a
/// whole). Who is paired with what depends only on arms and users, never on scores, so each pair's
/// difference x = candidate − stable in [−1, 1] has conditional mean that user's true effect: the
/// user's own satisfaction level cancels, as in <see cref="WithinUserCanary"/>. The pairs' differences,
/// as y = (x + 1)/2, feed an anytime-valid <see cref="EmpiricalBernsteinSequence"/> at α = P(Z &gt; z)
/// (z 2 → 0.023 per side), giving a bound [lower, upper] on the mean difference that holds at every
/// look at once. Users count through their events, not as units: the bound covers the average effect
/// over the events' users (weighted by how often they give feedback), and one heavy user cannot
/// pose as many users because MinUsers users must have pairs before it decides.
///
/// Promote when lower ≥ −Tolerance (the candidate is not worse by more than the margin); roll back
/// when upper &lt; −Tolerance (surely worse); otherwise wait, and at MaxMinutes roll back undecided —
/// the same semantics as the fixed design, now with an error that holds under continuous looking.
/// Paired differences are independent given the users only if a user's events are: a user who
/// repeats one complaint is a correlation this bound does not see.
/// </summary>
internal sealed class SequentialCanary
{
    readonly LoopCanarySettings settings;
    readonly bool withinUser;
    readonly EmpiricalBernsteinSequence differences;
    readonly Dictionary<string, (Queue<double> Candidate, Queue<double> Stable)> unpaired = [];
    readonly HashSet<string> pairedUsers = [];
    int candidateEvents, stableEvents, anonymous;
    double candidateSum, stableSum, differenceSum;

    public SequentialCanary(LoopCanarySettings settings)
    {
        this.settings = settings;
        withinUser = settings.Compare == LoopCanarySettings.CompareWithinUser;
        differences = new EmpiricalBernsteinSequence(NormalTail.Upper(settings.Z));
    }

    public static Result Decide(IReadOnlyList<CanaryEvent> events, LoopCanarySettings settings, TimeSpan elapsed)
    {
        var canary = new SequentialCanary(settings);
        foreach (var e in events) canary.Add(e);
        return canary.Decide(elapsed);
    }

    public void Add(CanaryEvent e)
    {
        bool candidate = e.Arm == Serving.CanaryRouting.Candidate;
        if (candidate) { candidateEvents++; candidateSum += e.Score; }
        else { stableEvents++; stableSum += e.Score; }
        if (withinUser && e.User is null) { anonymous++; return; }   // cannot be paired with the same user
        string key = withinUser ? e.User! : "";
        if (!unpaired.TryGetValue(key, out var queues)) unpaired[key] = queues = (new Queue<double>(), new Queue<double>());
        (candidate ? queues.Candidate : queues.Stable).Enqueue(e.Score);
        if (queues.Candidate.Count == 0 || queues.Stable.Count == 0) return;
        double x = Math.Clamp(queues.Candidate.Dequeue(), 0, 1) - Math.Clamp(queues.Stable.Dequeue(), 0, 1);
        differences.Add((x + 1) / 2);
        differenceSum += x;
        if (withinUser) pairedUsers.Add(key);
    }

    /// <summary>The decision alone, without its reason: what <see cref="Decide(TimeSpan)"/> decides,
    /// cheap enough to be asked after each of a million simulated events.</summary>
    public Outcome Judge(TimeSpan elapsed)
    {
        bool deadline = elapsed >= TimeSpan.FromMinutes(settings.MaxMinutes);
        if (!Ready) return deadline ? Outcome.RollBack : Outcome.Wait;
        if (Lower >= -settings.Tolerance) return Outcome.Promote;
        if (Upper < -settings.Tolerance || deadline) return Outcome.RollBack;
        return Outcome.Wait;
    }

    bool Ready => candidateEvents >= settings.MinEvents && stableEvents >= settings.MinEvents
        && (!withinUser || pairedUsers.Count >= settings.MinUsers) && differences.Count > 0;
    /// <summary>The bound on the mean difference candidate − stable, back on the [−1, 1] scale.</summary>
    double Lower => 2 * differences.Lower - 1;
    double Upper => 2 * differences.Upper - 1;

    public Result Decide(TimeSpan elapsed)
    {
        double c = candidateEvents > 0 ? candidateSum / candidateEvents : double.NaN, s = stableEvents > 0 ? stableSum / stableEvents : double.NaN;
        int users = pairedUsers.Count, pairs = differences.Count;
        var outcome = Judge(elapsed);
        string counts = $"candidate {F(c)} over {candidateEvents} events vs stable {F(s)} over {stableEvents}; " +
            (withinUser ? $"{pairs} pairs from {users} users" : $"{pairs} pairs") + (anonymous > 0 ? $" ({anonymous} events without a user)" : "");
        if (!Ready)
        {
            string what = candidateEvents < settings.MinEvents || stableEvents < settings.MinEvents ? $"an arm short of {settings.MinEvents} events"
                : withinUser && users < settings.MinUsers ? $"fewer than {settings.MinUsers} users on both arms" : "no pair of events";
            return new Result(outcome, outcome == Outcome.RollBack ? $"deadline {settings.MaxMinutes} min with {what} ({counts})" : counts,
                c, s, double.NaN, double.NaN) { Users = users };
        }
        double d = differenceSum / pairs;
        string bound = $"{counts}; {(withinUser ? "within-user " : "paired ")}difference {F(d)}, anytime bound [{F(Lower)}, {F(Upper)}] " +
            $"at z {settings.Z} (sequential, α {NormalTail.Upper(settings.Z).ToString("G3", CultureInfo.InvariantCulture)} a side) against −{settings.Tolerance}";
        string reason = outcome switch
        {
            Outcome.RollBack when Upper < -settings.Tolerance => bound + " (surely worse)",
            Outcome.RollBack => $"deadline {settings.MaxMinutes} min undecided: {bound}",
            _ => bound,
        };
        return new Result(outcome, reason, c, s, Lower, Upper) { Users = users, Difference = d };
    }

    static string F(double x) => double.IsNaN(x) ? "n/a" : x.ToString("F3", CultureInfo.InvariantCulture);
}
