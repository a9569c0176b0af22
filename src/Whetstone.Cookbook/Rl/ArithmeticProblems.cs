using Whetstone.Cookbook.Corpus;
using Whetstone.Chat;

namespace Whetstone.Cookbook.Rl;

/// <summary>Addition and subtraction of <paramref name="minDigits"/>..<paramref name="maxDigits"/>
/// digit numbers, asked as the corpus asks them ("What is a + b?"); the answer is the number
/// after the reply's last "Answer:". More digits than the pretraining mix's 2–4 make the
/// problems hard enough for a model to have headroom. Held-out questions are the corpus's
/// (the same hash split), so RL never trains on what the evals ask.</summary>
public sealed class ArithmeticProblems(IRenderer renderer, int minDigits, int maxDigits, double formatPenalty) : IProblemSource
{
    public EnvProblem Draw(Random random, bool heldOut)
    {
        if (minDigits < 1 || maxDigits < minDigits || maxDigits > 9)
            throw new ArgumentException($"digits {minDigits}..{maxDigits}: need 1 ≤ min ≤ max ≤ 9");
        while (true)
        {
            int digits = random.Next(minDigits, maxDigits + 1);
            int low = digits == 1 ? 0 : (int)Math.Pow(10, digits - 1), high = (int)Math.Pow(10, digits);
            int a = random.Next(low, high), b = random.Next(low, high);
            bool add = random.Next(2) == 0;
            if (!add && b > a) (a, b) = (b, a);
            string question = add ? $"What is {a} + {b}?" : $"What is {a} - {b}?";
            string answer = (add ? a + b : a - b).ToString();
            var example = new ChatExample(ArithmeticTask.Name, [ChatMessage.User(question)], answer);
            if (CorpusGenerator.IsHeldOut(example, CorpusProblems.HeldOutFraction) != heldOut) continue;
            return new EnvProblem(question, () => new AnswerEnv(renderer, question, answer, ArithmeticTask.ExtractAnswer, formatPenalty));
        }
    }
}
