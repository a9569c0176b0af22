namespace Whetstone.Cookbook.Rl;

/// <summary>Advantages centred within a group (GRPO without the division by the standard
/// deviation, as in Tinker's cookbook): each episode's reward minus the group's mean. A group
/// whose episodes all scored the same carries no signal and gets zeros.</summary>
public static class GroupAdvantages
{
    public static double[] Centered(IReadOnlyList<double> rewards)
    {
        if (rewards.Count == 0) return [];
        double mean = rewards.Average();
        return rewards.Select(r => r - mean).ToArray();
    }

    /// <summary>Whether the group's rewards differ at all (a group that does not is skipped).</summary>
    public static bool HasSignal(IReadOnlyList<double> rewards) => rewards.Count > 1 && rewards.Any(r => r != rewards[0]);
}
