using Whetstone.Cookbook.Corpus;

namespace Whetstone.Cookbook.Preference;

/// <summary>The held-out preference oracle of the RLHF pipeline: the corpus task's verifiable
/// answer. A reply is right when its last "Answer:" line equals the expected answer exactly.</summary>
public static class OracleAnswer
{
    public static string? Extract(string task, string reply)
    {
        if (task is ArithmeticTask.Name or ArithmeticTask.MultiplicationName) return ArithmeticTask.ExtractAnswer(reply);
        int at = reply.LastIndexOf("Answer:", StringComparison.Ordinal);
        return at < 0 ? null : reply[(at + "Answer:".Length)..].Trim();
    }

    public static bool IsCorrect(ChatExample example, string reply) => Extract(example.Task, reply) == example.Answer;
}
