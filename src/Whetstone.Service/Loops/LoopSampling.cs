using Whetstone.Chat;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;
using Whetstone.Tokenization;
using P = Whetstone.Protocol;

namespace Whetstone.Service.Loops;

/// <summary>A loop's way to a policy: sampling sessions of the service (the same decode loop as
/// every other sampler, as batch traffic behind live /v1 answers), awaited in process. Holds no
/// tensor: sessions are named by id, tokens are plain lists.</summary>
internal sealed class LoopSampling(ServiceContext context, SamplingSessionService sessions, Caller caller, string baseModel, CancellationToken cancellationToken)
{
    public HuggingFaceTokenizer Tokenizer => context.Host(baseModel).Worker.Tokenizer;

    /// <summary>The chat renderer of the base model, if it has one (served prompts were rendered with it).</summary>
    public IRenderer? Renderer
    {
        get
        {
            try { return RendererFactory.For(Tokenizer); }
            catch (ArgumentException) { return null; }
        }
    }

    public async Task<string> OpenAsync(string samplerPath) =>
        (await sessions.CreateAsync(caller, new P.CreateSamplingSessionRequest { ModelPath = samplerPath })).SessionId;

    public Task CloseAsync(string session) => sessions.CloseAsync(caller, session);

    /// <summary>n answers to one prompt; their tokens end at the model's or renderer's stop tokens.</summary>
    public async Task<IReadOnlyList<P.SampledSequence>> SampleAsync(string session, IReadOnlyList<int> prompt, int n, int maxTokens, double temperature, int seed)
    {
        var stops = Renderer?.StopTokenIds ?? [];
        var request = new P.SampleRequest(P.ModelInput.FromTokens(prompt), new P.SamplingParams
        {
            MaxTokens = maxTokens, Temperature = temperature, Seed = seed, StopTokenIds = stops.ToArray(),
        }) { NumSamples = n };
        var future = await sessions.SampleAsync(caller, session, request);
        return (await context.Futures.ResultAsync<P.SampleOutput>(future.RequestId, cancellationToken)).Sequences;
    }

    /// <summary>log p(token | prefix) of every token of <paramref name="tokens"/> (null for the first).</summary>
    public async Task<IReadOnlyList<double?>> LogprobsAsync(string session, IReadOnlyList<int> tokens)
    {
        var future = await sessions.ComputeLogprobsAsync(caller, session, new P.ComputeLogprobsRequest(P.ModelInput.FromTokens(tokens)));
        return (await context.Futures.ResultAsync<P.ComputeLogprobsOutput>(future.RequestId, cancellationToken)).Logprobs;
    }

    /// <summary>An answer's text, without the tokens that ended it.</summary>
    public string Text(IReadOnlyList<int> answer)
    {
        var hidden = new HashSet<int>([.. Tokenizer.EosTokenIds, .. Renderer?.StopTokenIds ?? []]);
        return Tokenizer.Decode(answer.Where(t => !hidden.Contains(t)), skipSpecialTokens: true);
    }

    /// <summary>A user message rendered as the chat endpoint renders it (or encoded, for a model without a template).</summary>
    public IReadOnlyList<int> UserPrompt(string text) =>
        Renderer is { } r ? r.BuildGenerationPrompt([new ChatMessage("user", text)]) : Tokenizer.Encode(text);
}
