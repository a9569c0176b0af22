using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>The envs the RL recipe knows by name.</summary>
public static class RlEnvironments
{
    public static readonly string[] Names = ["arithmetic", "multiplication", "instruction", "guess-number"];

    public static IProblemSource Create(RlOptions options, IRenderer renderer) => options.Env switch
    {
        "arithmetic" => new ArithmeticProblems(renderer, options.MinDigits, options.MaxDigits, options.FormatPenalty),
        "multiplication" => new MultiplicationProblems(renderer, options.FormatPenalty),
        "instruction" => new InstructionProblems(renderer, options.FormatPenalty),
        "guess-number" => new GuessNumberProblems(renderer, options.GuessUpper, options.GuessTurns, options.FormatPenalty),
        var other => throw new ArgumentException($"unknown env '{other}' (known: {string.Join(", ", Names)})"),
    };
}
