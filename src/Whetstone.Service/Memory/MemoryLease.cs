using Whetstone.Chat;
using Whetstone.Protocol.OpenAi;

namespace Whetstone.Service.Memory;

/// <summary>One chat turn's hold on a memory, from reading it for the answer until the turn's update
/// is stored: turns on one memory run one after another, each answered from the memory its
/// predecessor left. Disposing without <see cref="MemoryService.CommitTurnAsync"/> (the answer failed or the client
/// left) releases the memory unchanged.</summary>
internal sealed class MemoryLease(MemoryState state, IReadOnlyList<string> factKeys, Action release) : IDisposable
{
    int _released;

    public MemoryState State { get; } = state;
    public IReadOnlyList<string> FactKeys { get; } = factKeys;
    public string Id => State.Id;
    /// <summary>Created by this request and not stored yet.</summary>
    public bool IsNew { get; init; }

    /// <summary>The answer prompt's messages: the memory as a system message, then the new messages.</summary>
    public IReadOnlyList<ChatMessage> Messages(IReadOnlyList<ChatMessage> newMessages, Tokenization.HuggingFaceTokenizer tokenizer) =>
        State.Spans.Count == 0
            ? newMessages
            : [new ChatMessage("system", "Memory of this conversation so far:\n" + tokenizer.Decode(State.Tokens)), .. newMessages];

    public ChatMemoryUsed Used => new(State.Id, State.BudgetTokens, State.TokenCount, State.Turn);

    /// <summary>Hands the hold to the update, which releases it when stored.</summary>
    public Action TakeRelease() => Interlocked.Exchange(ref _released, 1) == 0 ? release : () => { };

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) release();
    }
}
