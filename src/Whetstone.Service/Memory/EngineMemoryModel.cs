using Whetstone.Chat;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Worker;
using Whetstone.Service.Scheduling;
using Whetstone.Tokenization;

namespace Whetstone.Service.Memory;

/// <summary><see cref="IMemoryModel"/> over a base model's engine worker: scoring passes are
/// compute_logprobs calls and rewrites are batch-priority decode calls, queued through the
/// model's planner like any other caller's, so memory upkeep shares the one decode loop and
/// yields to live traffic.</summary>
internal sealed class EngineMemoryModel(BaseModelHost host, string owner) : IMemoryModel
{
    readonly IRenderer? _renderer = TryRenderer(host.Worker.Tokenizer);

    public HuggingFaceTokenizer Tokenizer => host.Worker.Tokenizer;
    public IRenderer? Renderer => _renderer;
    public int ContextLength => host.Worker.Config.MaxPositionEmbeddings;

    public async Task<IReadOnlyList<float?>> LogprobsAsync(IReadOnlyList<int> tokens, CancellationToken cancellationToken)
    {
        var call = new LogprobsCall(RequestFutures.NewRequestId(), tokens);
        host.Planner.Enqueue(call);
        return (IReadOnlyList<float?>)await call.Completion.Task.WaitAsync(cancellationToken);
    }

    public async Task<(IReadOnlyList<float?> Logprobs, int ReusedTokens)> LogprobsAsync(IReadOnlyList<int> tokens, string prefixKey, bool keepPrefix,
        IReadOnlyList<string> reuseAlsoFrom, CancellationToken cancellationToken)
    {
        var call = new LogprobsCall(RequestFutures.NewRequestId(), tokens) { PrefixKey = prefixKey, KeepPrefix = keepPrefix, ReuseAlsoFrom = reuseAlsoFrom };
        host.Planner.Enqueue(call);
        var logprobs = (IReadOnlyList<float?>)await call.Completion.Task.WaitAsync(cancellationToken);
        return (logprobs, (int)call.Usage.ReusedPrefixTokens);
    }

    public async Task<IReadOnlyList<int>> GenerateAsync(IReadOnlyList<int> prompt, int maxTokens, int seed, CancellationToken cancellationToken)
    {
        var stops = _renderer?.StopTokenIds ?? [];
        var request = new SampleRequest(prompt, 1, new SamplingParams { MaxTokens = maxTokens, Temperature = 0, Seed = seed, StopTokenIds = stops });
        host.Worker.Validate(request);
        var call = new DecodeCall(RequestFutures.NewRequestId(), request) { Priority = DecodePriority.Batch, Owner = owner, Cancellation = cancellationToken };
        host.Planner.Enqueue(call);
        var result = (SampleResult)await call.Completion.Task.WaitAsync(cancellationToken);
        var hidden = new HashSet<int>([.. stops, .. host.Worker.Tokenizer.EosTokenIds]);
        return result.Sequences[0].Tokens.Where(t => !hidden.Contains(t)).ToArray();
    }

    static IRenderer? TryRenderer(HuggingFaceTokenizer tokenizer)
    {
        try { return RendererFactory.For(tokenizer); }
        catch (ArgumentException) { return null; }
    }
}
