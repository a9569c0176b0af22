namespace Whetstone.Cookbook.LongMemory;

/// <summary>The five kinds of question of the long-memory benchmark (after LoCoMo and LongMemEval).</summary>
public enum QuestionKind
{
    /// <summary>One stated fact ("What is my dog called?").</summary>
    SingleHop,
    /// <summary>Two facts joined ("In which city does my sister live?": her name, then where that name lives).</summary>
    MultiHop,
    /// <summary>Order or date of dated events ("Which came first, …?").</summary>
    Temporal,
    /// <summary>A fact that changed later: the latest value is the answer.</summary>
    KnowledgeUpdate,
    /// <summary>Never said: the answer is "unknown".</summary>
    Abstention,
}

/// <summary>One user turn of a session, on a date. <see cref="FactKeys"/> marks the facts it states
/// (what the memory's fact_keys field carries, so an update supersedes the old value).</summary>
public sealed record ConversationTurn(int Session, DateOnly Date, string User, IReadOnlyList<string> FactKeys);

/// <summary>A question, its answer, and for knowledge updates the stale value that must not win.
/// <see cref="Evidence"/>: the strings a context must hold to answer (all of them).</summary>
public sealed record MemoryQuestion(QuestionKind Kind, string Question, string Answer, IReadOnlyList<string> Evidence)
{
    public string? StaleAnswer { get; init; }
    public const string Unknown = "unknown";
}

/// <summary>A generated multi-session conversation and the questions asked after it.</summary>
public sealed record LongMemoryConversation(int Seed, IReadOnlyList<ConversationTurn> Turns, IReadOnlyList<MemoryQuestion> Questions);
