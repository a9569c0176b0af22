namespace Whetstone.Service.Memory;

/// <summary>The tokens one turn made the model process, by stage. Each stage is bounded by the
/// budget B (and the policy's caps), never by the history: that is the O(B) turn, and tests
/// assert it on these counts rather than on time.</summary>
internal sealed class MemoryTurnWork
{
    public int ScoringTokens { get; set; }
    public int ScoringCalls { get; set; }
    /// <summary>Of <see cref="ScoringTokens"/>, those whose KV was reused from a kept prefix, not prefilled.</summary>
    public int ScoringReusedTokens { get; set; }
    public int RefillPromptTokens { get; set; }
    public int RefillGeneratedTokens { get; set; }
    public int AnswerPromptTokens { get; set; }

    public int TotalTokens => ScoringTokens + RefillPromptTokens + RefillGeneratedTokens + AnswerPromptTokens;
    /// <summary>The tokens the model actually computed: <see cref="TotalTokens"/> less the reused prefix.</summary>
    public int PrefilledTokens => TotalTokens - ScoringReusedTokens;

    public Protocol.MemoryTurnWorkInfo ToProtocol() =>
        new(ScoringTokens, ScoringCalls, RefillPromptTokens, RefillGeneratedTokens, AnswerPromptTokens, ScoringReusedTokens);

    public static MemoryTurnWork FromProtocol(Protocol.MemoryTurnWorkInfo w) => new()
    {
        ScoringTokens = w.ScoringTokens, ScoringCalls = w.ScoringCalls, RefillPromptTokens = w.RefillPromptTokens,
        RefillGeneratedTokens = w.RefillGeneratedTokens, AnswerPromptTokens = w.AnswerPromptTokens,
        ScoringReusedTokens = w.ScoringReusedTokens,
    };
}
