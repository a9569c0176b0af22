using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>One question with one verifiable answer, in a single turn: reward 1 for the right
/// answer, 0 for a wrong one, minus <paramref name="formatPenalty"/> when the reply has no
/// parsable answer or was cut off (Tinker's math env: correct + coef·(format_ok − 1)).</summary>
/// <param name="extractAnswer">The answer read from the reply's text, or null when it has none.</param>
public sealed class AnswerEnv(IRenderer renderer, string question, string answer, Func<string, string?> extractAnswer, double formatPenalty)
    : ChatEnv(renderer, [ChatMessage.User(question)])
{
    public string Question => question;

    public string Answer => answer;

    protected override EnvTurn Respond(ChatMessage reply, bool stopped)
    {
        var given = extractAnswer(reply.Content);
        bool formatOk = stopped && given is not null;
        bool correct = given == answer;
        double reward = (correct ? 1 : 0) - (formatOk ? 0 : formatPenalty);
        return new EnvTurn(reward, true, null, new Dictionary<string, double> { ["correct"] = correct ? 1 : 0, ["format"] = formatOk ? 1 : 0 });
    }
}
