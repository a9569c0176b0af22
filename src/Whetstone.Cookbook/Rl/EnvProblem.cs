namespace Whetstone.Cookbook.Rl;

/// <summary>One problem: a description for the logs and a factory of fresh envs on it (one per
/// attempt).</summary>
public sealed record EnvProblem(string Description, Func<IEnv> MakeEnv);

/// <summary>Draws problems of one kind, from the training or the held-out split.</summary>
public interface IProblemSource
{
    EnvProblem Draw(Random random, bool heldOut);
}
