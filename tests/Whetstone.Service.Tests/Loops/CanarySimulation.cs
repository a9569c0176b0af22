using Whetstone.Protocol;
using Whetstone.Service.Loops;
using static Whetstone.Service.Loops.CanaryDecision;

namespace Whetstone.Service.Tests.Loops;

/// <summary>
/// Simulated canaries, decided by the served rule after every single event, as the loop looks at its
/// canary. Users have a base satisfaction p_u ~ U(0.3, 0.8); each event picks a user and an arm at
/// random (the 50% request split) and scores 1 with probability p_u on the stable arm and
/// p_u + trueDifference on the candidate (clamped to [0, 1]), else 0: binary scores, the noisiest
/// feedback in [0, 1]. The canary stops at its first decision; one that is still waiting when the
/// event budget is spent counts as neither promoted nor rolled back (the deadline's rollback).
/// The same model as docs/results/experiential-loop/s8/canary/peeking.py.
/// </summary>
internal static class CanarySimulation
{
    public sealed record Rates(double Promoted, double RolledBack, double MeanEventsToPromote);

    public static Rates Run(LoopCanarySettings settings, double trueDifference, int canaries, int events, int users, int seed)
    {
        var random = new Random(seed);
        int promoted = 0, rolledBack = 0;
        long eventsToPromote = 0;
        for (int c = 0; c < canaries; c++)
        {
            var baseRate = Enumerable.Range(0, users).Select(_ => 0.3 + 0.5 * random.NextDouble()).ToArray();
            var judge = Served(settings);
            for (int e = 0; e < events; e++)
            {
                int user = random.Next(users);
                bool candidate = random.NextDouble() < 0.5;
                double p = Math.Clamp(baseRate[user] + (candidate ? trueDifference : 0), 0, 1);
                var outcome = judge(new CanaryEvent(candidate ? "candidate" : "stable", $"u{user}", random.NextDouble() < p ? 1 : 0));
                if (outcome == Outcome.Wait) continue;
                if (outcome == Outcome.Promote) { promoted++; eventsToPromote += e + 1; }
                else rolledBack++;
                break;
            }
        }
        return new Rates((double)promoted / canaries, (double)rolledBack / canaries, promoted > 0 ? (double)eventsToPromote / promoted : double.NaN);
    }

    /// <summary>Takes one more event and returns the canary's decision on all events so far, before
    /// its deadline: the sequential design incrementally (what <see cref="SequentialCanary.Decide(IReadOnlyList{CanaryEvent}, LoopCanarySettings, TimeSpan)"/>
    /// computes from scratch), the fixed design by <see cref="CanaryDecision.Decide(IReadOnlyList{CanaryEvent}, LoopCanarySettings, TimeSpan)"/> on the whole list.</summary>
    static Func<CanaryEvent, Outcome> Served(LoopCanarySettings settings)
    {
        if (settings.Design == LoopCanarySettings.DesignSequential)
        {
            var canary = new SequentialCanary(settings);
            return e => { canary.Add(e); return canary.Judge(TimeSpan.Zero); };
        }
        var all = new List<CanaryEvent>();
        return e => { all.Add(e); return Decide(all, settings, TimeSpan.Zero).Decision; };
    }
}
