namespace Whetstone.Service.Memory;

/// <summary>The tokens one turn made the model process, by stage. Each stage is bounded by the
/// budget B (and the policy's caps), never by the history: that is the O(B) turn, and tests
/// assert it on these counts rather than on time.</summary>
internal sealed class MemoryTurnWork
{
    public int ScoringTokens { get; set; }
    public int ScoringCalls { get; set; }
    public int RefillPromptTokens { get; set; }
    public int RefillGeneratedTokens { get; set; }
    public int AnswerPromptTokens { get; set; }

    public int TotalTokens => ScoringTokens + RefillPromptTokens + RefillGeneratedTokens + AnswerPromptTokens;

    public Protocol.MemoryTurnWorkInfo ToProtocol() =>
        new(ScoringTokens, ScoringCalls, RefillPromptTokens, RefillGeneratedTokens, AnswerPromptTokens);

    public static MemoryTurnWork FromProtocol(Protocol.MemoryTurnWorkInfo w) => new()
    {
        ScoringTokens = w.ScoringTokens, ScoringCalls = w.ScoringCalls, RefillPromptTokens = w.RefillPromptTokens,
        RefillGeneratedTokens = w.RefillGeneratedTokens, AnswerPromptTokens = w.AnswerPromptTokens,
    };
}
