using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>The corpus's multiplication (a 2–4 digit number times one digit, "What is a * b?"),
/// split train/held-out by the corpus's own hash, so RL never trains on a question that
/// `whet eval --set multiplication` asks. The base models never saw it in pretraining: RL here
/// is meant to continue an SFT policy that has the skill in part (docs/results/sft-new-skill.md).</summary>
public sealed class MultiplicationProblems(IRenderer renderer, double formatPenalty) : IProblemSource
{
    public EnvProblem Draw(Random random, bool heldOut) =>
        CorpusProblems.Draw(random, heldOut, ArithmeticTask.GenerateMultiplication, renderer, ArithmeticTask.ExtractAnswer, formatPenalty);
}
