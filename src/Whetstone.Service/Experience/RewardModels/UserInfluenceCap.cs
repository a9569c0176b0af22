namespace Whetstone.Service.Experience.RewardModels;

/// <summary>Per-event loss weights that keep any one end user under a share of a micro-batch's
/// total weight, so a spammer's hundred events count like a capped few. Every event starts at
/// weight 1; a user with n events gets min(n, τ) in total, spread evenly over them, where τ is the
/// largest level with τ ≤ cap · Σ_users min(n_u, τ) (water-filling: users under τ keep all their
/// weight). When fewer than 1/cap users are present no level satisfies the cap, and every user
/// gets the same total instead, the closest the batch allows. Weights are scaled to sum to the
/// number of events, so an uncapped batch is all ones.</summary>
internal static class UserInfluenceCap
{
    public static double[] Weights(IReadOnlyList<string> users, double cap)
    {
        if (!(cap > 0 && cap <= 1)) throw new ArgumentOutOfRangeException(nameof(cap), cap, "in (0, 1]");
        int n = users.Count;
        var weights = new double[n];
        if (n == 0) return weights;
        var counts = users.GroupBy(u => u).ToDictionary(g => g.Key, g => g.Count());
        double TotalAt(double level) => counts.Values.Sum(c => Math.Min(c, level));

        double tau;
        if (counts.Values.Max() <= cap * n) tau = counts.Values.Max();               // nobody over the cap
        else if (cap * counts.Count < 1) tau = 1;                                     // infeasible: equal totals
        else
        {
            // f(τ) = cap·T(τ) − τ is concave, positive just above 0 (cap·users > 1) and negative at max n.
            double low = 0, high = counts.Values.Max();
            for (int i = 0; i < 100; i++)
            {
                double mid = (low + high) / 2;
                if (cap * TotalAt(mid) - mid >= 0) low = mid; else high = mid;
            }
            tau = low;
        }
        for (int i = 0; i < n; i++)
        {
            int c = counts[users[i]];
            weights[i] = Math.Min(c, tau) / c;
        }
        double scale = n / weights.Sum();
        for (int i = 0; i < n; i++) weights[i] *= scale;
        return weights;
    }
}
