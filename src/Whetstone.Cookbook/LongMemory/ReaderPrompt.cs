namespace Whetstone.Cookbook.LongMemory;

/// <summary>The model reader's prompt: the context a method built, then the question, as one user
/// message; the answer is the assistant's reply (one word, a date, an activity, or "unknown").
/// Training data (<see cref="ReaderTrainingData"/>) and the benchmark use this one format, so the
/// reader is asked exactly what it was trained on. Follow-up questions on the same context (training
/// only: more answers per long context) are further user messages holding just the question line.</summary>
public static class ReaderPrompt
{
    public static string First(string context, string question) => $"Memory:\n{context}\n\n{Question(question)}";

    public static string Question(string question) => $"Question: {question}";

    /// <summary>The reply, cut to its first line and trimmed of the punctuation a model may add.</summary>
    public static string Clean(string reply) => reply.Split('\n')[0].Trim().TrimEnd('.', '!', ',').Trim();
}
