using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;

namespace Whetstone.Client;

/// <summary>The SDK's side of Memory Diffusion: one chat turn answered from, and folded into, a
/// server-held memory of a fixed token budget; the memory's spans, scores and operation log; delete.</summary>
public sealed class MemoryChatClient
{
    readonly ITransport _transport;

    internal MemoryChatClient(ITransport transport) => _transport = transport;

    /// <summary>One turn. <paramref name="memoryId"/> null creates a memory of <paramref name="budgetTokens"/>
    /// (its id is in the answer's <c>Memory</c>). <paramref name="factKeys"/> marks the facts this turn states.
    /// <paramref name="scorer"/> chooses the mask's scorer, e.g. <c>new MemoryScorer(MemoryScorer.Learned, valueHeadRunId)</c> (null: unchanged).</summary>
    public Task<ChatCompletion> ChatAsync(string model, string userMessage, string? memoryId, int? budgetTokens, int maxTokens = 16,
        int? seed = null, IReadOnlyList<string>? factKeys = null, double temperature = 0, MemoryScorer? scorer = null, CancellationToken cancellationToken = default) =>
        _transport.SendAsync<ChatCompletionRequest, ChatCompletion>(HttpMethod.Post, Routes.OpenAiChatCompletions, new ChatCompletionRequest
        {
            Model = model, MaxTokens = maxTokens, Temperature = temperature, Seed = seed,
            Messages = [new OpenAiMessage { Role = "user", Content = new MessageContent(userMessage, null) }],
            Memory = new ChatMemoryOptions(memoryId, budgetTokens, factKeys) { Scorer = scorer },
        }, cancellationToken);

    /// <summary>The memory after every answered turn (the server waits for a pending update).</summary>
    public Task<MemoryInfo> GetMemoryAsync(string id, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<MemoryInfo>(Routes.Memory(id), cancellationToken);

    /// <summary>One page of the caller's memories, newest first, with the total in the cursor.</summary>
    public Task<MemoryList> ListMemoriesAsync(int limit = 20, int offset = 0, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<MemoryList>(ListingRoutes.Page(ListingRoutes.Memories, limit, offset), cancellationToken);

    public Task DeleteMemoryAsync(string id, CancellationToken cancellationToken = default) =>
        _transport.SendAsync<object>(HttpMethod.Delete, Routes.Memory(id), null, cancellationToken);
}
