using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cookbook.Rl;

/// <summary>
/// An episode laid out as one token sequence for training: the observations and actions in
/// order, the sampler's logprob on each action token (0 elsewhere) and which tokens are actions.
/// Only action tokens are trained: they alone get an advantage.
/// </summary>
public sealed record PolicySequence(int[] Tokens, float[] SamplerLogprobs, bool[] IsAction)
{
    public int ActionCount => IsAction.Count(a => a);

    /// <summary>The sampler's experts for every token but the last (routing replay), when every
    /// turn's sample carried them; null otherwise.</summary>
    public RoutedExperts? Routing { get; init; }

    /// <summary>One sequence per run of turns whose observations extend each other (every
    /// <see cref="ChatEnv"/> episode is one); a turn whose observation does not start with
    /// everything before it begins a new sequence.</summary>
    public static IReadOnlyList<PolicySequence> FromTrajectory(Trajectory trajectory)
    {
        var sequences = new List<PolicySequence>();
        List<int> tokens = [];
        List<float> logprobs = [];
        List<bool> isAction = [];
        var routing = new RoutingAssembly();
        foreach (var transition in trajectory.Transitions)
        {
            var observation = transition.Observation.Tokens;
            if (!StartsWith(observation, tokens))
            {
                if (tokens.Count > 0) sequences.Add(new PolicySequence([.. tokens], [.. logprobs], [.. isAction]) { Routing = routing.Result() });
                tokens = []; logprobs = []; isAction = [];
                routing = new RoutingAssembly();
            }
            routing.Add(transition.Routing);
            for (int i = tokens.Count; i < observation.Count; i++)
            {
                tokens.Add(observation[i]); logprobs.Add(0); isAction.Add(false);
            }
            for (int i = 0; i < transition.Action.Count; i++)
            {
                tokens.Add(transition.Action[i]); logprobs.Add((float)transition.ActionLogprobs[i]); isAction.Add(true);
            }
        }
        if (tokens.Count > 0) sequences.Add(new PolicySequence([.. tokens], [.. logprobs], [.. isAction]) { Routing = routing.Result() });
        return sequences;
    }

    /// <summary>The same advantage on every action token.</summary>
    public float[] Advantages(double advantage) => IsAction.Select(a => a ? (float)advantage : 0f).ToArray();

    /// <summary>A datum for the policy-gradient losses: target tokens, sampler logprobs and
    /// per-token advantages (aligned with <see cref="Tokens"/>; shifted by
    /// <see cref="Datums.ForPolicyGradient"/>).</summary>
    public Datum ToDatum(IReadOnlyList<float> advantages)
    {
        if (advantages.Count != Tokens.Length) throw new ArgumentException($"{advantages.Count} advantages for {Tokens.Length} tokens", nameof(advantages));
        for (int i = 0; i < Tokens.Length; i++)
            if (!IsAction[i] && advantages[i] != 0) throw new ArgumentException($"token {i} is not an action and cannot carry an advantage", nameof(advantages));
        var datum = Datums.ForPolicyGradient(Tokens, SamplerLogprobs, advantages);
        if (Routing is null) return datum;
        if (Routing.TokenCount < Tokens.Length - 1)
            throw new InvalidOperationException($"the sampler's routing covers {Routing.TokenCount} tokens; the datum's input has {Tokens.Length - 1}");
        return datum with { RoutedExperts = Routing.Prefix(Tokens.Length - 1) };
    }

    // One sequence's routing from its turns' traces: each turn's trace covers everything its
    // sampler ran (the observation, then all but the last action token); a position takes the
    // first turn whose trace reaches it, i.e. the sampler that computed the logprob of the token
    // after it. Any turn without a trace leaves the sequence without routing.
    sealed class RoutingAssembly
    {
        readonly List<int> _experts = [];
        RoutedExperts? _shape;
        bool _missing;

        public void Add(RoutedExperts? trace)
        {
            if (trace is null) { _missing = true; return; }
            _shape ??= trace;
            int width = trace.Layers.Count * trace.ExpertsPerToken;
            int covered = _experts.Count / width;
            for (int i = covered * width; i < trace.Experts.Count; i++) _experts.Add(trace.Experts[i]);
        }

        public RoutedExperts? Result() => _missing || _shape is null ? null : _shape with { Experts = _experts.ToArray() };
    }

    static bool StartsWith(IReadOnlyList<int> sequence, List<int> prefix)
    {
        if (prefix.Count == 0 || sequence.Count < prefix.Count) return prefix.Count == 0;
        for (int i = 0; i < prefix.Count; i++)
            if (sequence[i] != prefix[i]) return false;
        return true;
    }
}
