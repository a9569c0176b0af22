using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>Problems drawn from a corpus task, split train/held-out by the corpus's own hash (the
/// 10% `whet eval` asks), each an <see cref="AnswerEnv"/> on the example's single right answer.</summary>
internal static class CorpusProblems
{
    /// <summary>Fraction of questions held out, as the corpus and the eval harness hold them out.</summary>
    public const double HeldOutFraction = 0.1;

    public static EnvProblem Draw(Random random, bool heldOut, Func<Random, ChatExample> generate,
        IRenderer renderer, Func<string, string?> extractAnswer, double formatPenalty)
    {
        while (true)
        {
            var example = generate(random);
            if (CorpusGenerator.IsHeldOut(example, HeldOutFraction) != heldOut) continue;
            string question = example.Messages[0].Content;
            return new EnvProblem(question, () => new AnswerEnv(renderer, question, example.Answer, extractAnswer, formatPenalty));
        }
    }
}
