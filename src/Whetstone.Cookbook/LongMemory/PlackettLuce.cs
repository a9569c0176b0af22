namespace Whetstone.Cookbook.LongMemory;

/// <summary>The span scorer's stochastic policy for RL: an order of the lines drawn from the
/// Plackett–Luce distribution over the value head's logits s (p(first = j) = softmax(s / T)_j, then
/// the same over the lines left), and the memory is that order filled greedily into B tokens —
/// the served allocator's "best retention first, while it fits" with the ranking made random.
/// At T → 0 it is the deterministic served mask. Only the prefix of the order up to the point where
/// no line left could fit decides the memory, so that prefix is the action: its log-probability is
/// Σₖ [sₖ/T − log Σ_{j left at k} exp(sⱼ/T)] and its gradient is
/// ∂ log π / ∂sⱼ = (1/T) Σₖ (1[cₖ = j] − softmax_{left at k}(s/T)ⱼ). All in fp64.</summary>
public static class PlackettLuce
{
    /// <summary>A full order, best first: the Gumbel-max trick (sort by s/T + Gumbel noise) draws from Plackett–Luce exactly.</summary>
    public static int[] SampleOrder(IReadOnlyList<double> logits, double temperature, Random random)
    {
        var keys = new double[logits.Count];
        for (int i = 0; i < keys.Length; i++)
        {
            double u = random.NextDouble();
            keys[i] = logits[i] / temperature - Math.Log(-Math.Log(Math.Max(u, 1e-300)));
        }
        return Enumerable.Range(0, keys.Length).OrderByDescending(i => keys[i]).ThenBy(i => i).ToArray();
    }

    /// <summary>log π of the order's first <paramref name="prefix"/> picks.</summary>
    public static double LogProbability(IReadOnlyList<double> logits, double temperature, IReadOnlyList<int> order, int prefix)
    {
        var left = new HashSet<int>(Enumerable.Range(0, logits.Count));
        double logp = 0;
        for (int k = 0; k < prefix; k++)
        {
            logp += logits[order[k]] / temperature - LogSumExp(left.Select(j => logits[j] / temperature));
            left.Remove(order[k]);
        }
        return logp;
    }

    /// <summary>∂ log π(order's first <paramref name="prefix"/> picks) / ∂ logits.</summary>
    public static double[] LogProbabilityGradient(IReadOnlyList<double> logits, double temperature, IReadOnlyList<int> order, int prefix)
    {
        var gradient = new double[logits.Count];
        var left = new List<int>(Enumerable.Range(0, logits.Count));
        for (int k = 0; k < prefix; k++)
        {
            double max = left.Max(j => logits[j] / temperature);
            double z = left.Sum(j => Math.Exp(logits[j] / temperature - max));
            foreach (int j in left) gradient[j] -= Math.Exp(logits[j] / temperature - max) / z / temperature;
            gradient[order[k]] += 1 / temperature;
            left.Remove(order[k]);
        }
        return gradient;
    }

    static double LogSumExp(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        double max = a.Max();
        return max + Math.Log(a.Sum(x => Math.Exp(x - max)));
    }
}
