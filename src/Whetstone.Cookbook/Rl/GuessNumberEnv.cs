using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>
/// A multi-turn env: the user thinks of a number in 1..<paramref name="upper"/>, the policy
/// guesses ("Answer: N") and hears "Higher." or "Lower." after each wrong guess, for at most
/// <paramref name="maxTurns"/> guesses. Reward 1 for finding it (nothing for taking longer, so
/// the group's spread rewards searching well), 0 otherwise, minus the format penalty for a reply
/// without a parsable guess (which also ends the game).
/// </summary>
public sealed class GuessNumberEnv(IRenderer renderer, int secret, int upper, int maxTurns, double formatPenalty)
    : ChatEnv(renderer, [ChatMessage.User(Prompt(upper))])
{
    int _turns;

    public static string Prompt(int upper) => $"I am thinking of a number from 1 to {upper}. Guess it; after each guess I say Higher or Lower. Reply with Answer: N.";

    public int Secret => secret;

    protected override EnvTurn Respond(ChatMessage reply, bool stopped)
    {
        _turns++;
        var given = Corpus.ArithmeticTask.ExtractAnswer(reply.Content);
        bool formatOk = stopped && int.TryParse(given, out _);
        if (!formatOk)
            return new EnvTurn(-formatPenalty, true, null, Metrics(correct: false, formatOk: false));
        int guess = int.Parse(given!);
        if (guess == secret)
            return new EnvTurn(1, true, null, Metrics(correct: true, formatOk: true));
        if (_turns >= maxTurns)
            return new EnvTurn(0, true, null, Metrics(correct: false, formatOk: true));
        return new EnvTurn(0, false, ChatMessage.User(guess < secret ? "Higher." : "Lower."), Metrics(correct: false, formatOk: true));
    }

    Dictionary<string, double> Metrics(bool correct, bool formatOk) =>
        new() { ["correct"] = correct ? 1 : 0, ["format"] = formatOk ? 1 : 0, ["turns"] = _turns };
}
