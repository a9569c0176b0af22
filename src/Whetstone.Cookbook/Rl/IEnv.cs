namespace Whetstone.Cookbook.Rl;

/// <summary>
/// An environment as in Tinker's cookbook: it gives an initial observation (the prompt tokens
/// and when the policy's turn stops), and each <see cref="Step"/> takes the policy's action
/// (the sampled tokens of one turn) and answers with a reward, whether the episode is over, and
/// the next observation. One env is one episode; it is used once.
/// </summary>
public interface IEnv
{
    Observation InitialObservation();

    StepResult Step(IReadOnlyList<int> action);
}

/// <summary>What the policy sees before it acts: the whole context so far as tokens, and the
/// tokens that end its turn.</summary>
public sealed record Observation(IReadOnlyList<int> Tokens, IReadOnlyList<int> StopTokenIds);

/// <summary>The env's answer to one action. <see cref="Next"/> is null once <see cref="Done"/>.
/// <see cref="Metrics"/> carry per-episode facts such as "correct" (1 or 0) and "format" for the
/// logs.</summary>
public sealed record StepResult(double Reward, bool Done, Observation? Next, IReadOnlyDictionary<string, double> Metrics);
