using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>Guess-the-number games with a secret in 1..<paramref name="upper"/>. The space is too
/// small for a question split: held-out games differ only by the random stream they come from.</summary>
public sealed class GuessNumberProblems(IRenderer renderer, int upper, int maxTurns, double formatPenalty) : IProblemSource
{
    public EnvProblem Draw(Random random, bool heldOut)
    {
        if (upper < 2 || maxTurns < 1) throw new ArgumentException($"guess-number needs upper ≥ 2 and at least one turn (got {upper}, {maxTurns})");
        int secret = random.Next(1, upper + 1);
        return new EnvProblem($"secret {secret} of 1..{upper}", () => new GuessNumberEnv(renderer, secret, upper, maxTurns, formatPenalty));
    }
}
