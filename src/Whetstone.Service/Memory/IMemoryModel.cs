using Whetstone.Chat;
using Whetstone.Tokenization;

namespace Whetstone.Service.Memory;

/// <summary>What the memory engine asks of the model, as plain token lists: compute_logprobs
/// (the scorer's signal) and greedy generation (refill's rewrites). The service's implementation
/// (<see cref="EngineMemoryModel"/>) sends both as calls to the base model's engine worker, so
/// every tensor stays there.</summary>
internal interface IMemoryModel
{
    HuggingFaceTokenizer Tokenizer { get; }
    /// <summary>The chat renderer, or null for a model without a chat template (refill then uses plain text).</summary>
    IRenderer? Renderer { get; }
    int ContextLength { get; }

    /// <summary>Per token, log p(token | tokens before); null for the first.</summary>
    Task<IReadOnlyList<float?>> LogprobsAsync(IReadOnlyList<int> tokens, CancellationToken cancellationToken);

    /// <summary>The same logprobs, and how many leading tokens' KV the model reused from the sequence
    /// kept under <paramref name="prefixKey"/> instead of prefilling them; with
    /// <paramref name="keepPrefix"/> these tokens are kept there next; the sequences kept under
    /// <paramref name="reuseAlsoFrom"/> are candidates too. A model without a prefix cache
    /// prefills everything (reuses 0).</summary>
    async Task<(IReadOnlyList<float?> Logprobs, int ReusedTokens)> LogprobsAsync(IReadOnlyList<int> tokens, string prefixKey, bool keepPrefix,
        IReadOnlyList<string> reuseAlsoFrom, CancellationToken cancellationToken) =>
        (await LogprobsAsync(tokens, cancellationToken), 0);

    /// <summary>Greedy continuation of at most <paramref name="maxTokens"/> tokens, without its stop token.</summary>
    Task<IReadOnlyList<int>> GenerateAsync(IReadOnlyList<int> prompt, int maxTokens, int seed, CancellationToken cancellationToken);
}
