using System.Diagnostics;

namespace Whetstone.Bench;

/// <summary>The fastest of a few runs: the least disturbed by whatever else the machine did.</summary>
internal static class BestTime
{
    public static double Seconds(Action action, int runs = 2, bool warmUp = false)
    {
        if (warmUp) action();
        double best = double.MaxValue;
        for (int r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
