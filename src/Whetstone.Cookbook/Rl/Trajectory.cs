namespace Whetstone.Cookbook.Rl;

/// <summary>One turn of an episode: what the policy saw, the tokens it sampled with the sampler's
/// logprob of each, and the env's answer.</summary>
public sealed record Transition(Observation Observation, IReadOnlyList<int> Action, IReadOnlyList<double> ActionLogprobs, StepResult Result)
{
    /// <summary>The sampler's experts for the observation and every action token but the last
    /// (when rollouts asked for routing on an MoE model).</summary>
    public Protocol.RoutedExperts? Routing { get; init; }
}

/// <summary>One episode. Its reward is the sum of its turns' rewards; its metrics are the last
/// turn's (the env's final verdict).</summary>
public sealed record Trajectory(IReadOnlyList<Transition> Transitions)
{
    public double TotalReward => Transitions.Sum(t => t.Result.Reward);

    public IReadOnlyDictionary<string, double> FinalMetrics => Transitions.Count == 0 ? new Dictionary<string, double>() : Transitions[^1].Result.Metrics;

    public int ActionTokens => Transitions.Sum(t => t.Action.Count);
}

/// <summary>The episodes of one group, and the sampler weights' version (optimizer steps taken)
/// they were sampled with.</summary>
public sealed record TrajectoryGroup(IReadOnlyList<Trajectory> Trajectories, int SamplerVersion);
