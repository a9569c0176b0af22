using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>The corpus's instructions (reverse a list, sort numbers, count a letter, copy a
/// field), each with one right answer, split train/held-out as the corpus splits them; the
/// reply's text after its last "Answer:" must equal the answer exactly.</summary>
public sealed class InstructionProblems(IRenderer renderer, double formatPenalty) : IProblemSource
{
    public EnvProblem Draw(Random random, bool heldOut) =>
        CorpusProblems.Draw(random, heldOut, InstructionTask.Generate, renderer, ExtractAnswer, formatPenalty);

    public static string? ExtractAnswer(string reply)
    {
        int at = reply.LastIndexOf("Answer:", StringComparison.Ordinal);
        return at < 0 ? null : reply[(at + "Answer:".Length)..].Trim();
    }
}
