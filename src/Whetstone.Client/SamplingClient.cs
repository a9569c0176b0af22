using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// Samples from a base model or from a sampler checkpoint of a training run. Its logprobs are
/// those the learner computes for the same tokens, so importance ratios start at 1.
/// Calls return once the server accepted the work, with a future for its result.
/// </summary>
public sealed class SamplingClient
{
    readonly ITransport _transport;

    SamplingClient(ITransport transport, SamplingSessionInfo session)
    {
        _transport = transport;
        SessionId = session.SessionId;
        BaseModel = session.BaseModel;
        ModelPath = session.ModelPath;
    }

    public string SessionId { get; }

    public string BaseModel { get; }

    /// <summary>The sampler checkpoint sampled from; null for the bare base model.</summary>
    public string? ModelPath { get; }

    internal static async Task<SamplingClient> CreateAsync(ITransport transport, CreateSamplingSessionRequest request, CancellationToken cancellationToken)
    {
        if ((request.BaseModel is null) == (request.ModelPath is null))
            throw new ArgumentException("A sampling client samples either a base model or a model path (whet://…/sampler_weights/…): give exactly one.");
        var session = await transport.PostAsync<CreateSamplingSessionRequest, SamplingSessionInfo>(Routes.SamplingSessions, request, cancellationToken).ConfigureAwait(false);
        return new SamplingClient(transport, session);
    }

    /// <summary>Draws <paramref name="numSamples"/> continuations of <paramref name="prompt"/>:
    /// tokens, per-token logprobs and stop reason ("stop" or "length") for each.</summary>
    /// <param name="promptLogprobs">Also return the logprob of every prompt token (null for the first).</param>
    /// <param name="topkPromptLogprobs">Also return the k most likely tokens at each prompt position.</param>
    /// <param name="includeRouting">Also return each sample's routed experts (mixture-of-experts
    /// models; a dense model refuses it), for a datum's routed_experts (routing replay).</param>
    public async Task<ApiFuture<SampleOutput>> SampleAsync(ModelInput prompt, int numSamples, SamplingParams samplingParams,
        bool promptLogprobs = false, int topkPromptLogprobs = 0, CancellationToken cancellationToken = default, bool includeRouting = false)
    {
        var request = new SampleRequest(prompt, samplingParams)
        {
            NumSamples = numSamples,
            PromptLogprobs = promptLogprobs,
            TopkPromptLogprobs = topkPromptLogprobs,
            IncludeRouting = includeRouting,
        };
        var accepted = await _transport.PostAsync<SampleRequest, UntypedFuture>(Routes.Sample(SessionId), request, cancellationToken).ConfigureAwait(false);
        return new ApiFuture<SampleOutput>(_transport, accepted.RequestId, ApiFuture<SampleOutput>.DecodeJson);
    }

    /// <summary>The logprob of every token of <paramref name="prompt"/> given those before it
    /// (null for the first).</summary>
    public async Task<ApiFuture<ComputeLogprobsOutput>> ComputeLogprobsAsync(ModelInput prompt, CancellationToken cancellationToken = default)
    {
        var accepted = await _transport.PostAsync<ComputeLogprobsRequest, UntypedFuture>(
            Routes.ComputeLogprobs(SessionId), new ComputeLogprobsRequest(prompt), cancellationToken).ConfigureAwait(false);
        return new ApiFuture<ComputeLogprobsOutput>(_transport, accepted.RequestId, ApiFuture<ComputeLogprobsOutput>.DecodeJson);
    }

    /// <summary>Ends the session on the server, which lets go of the adapter or whole model it
    /// holds (calls already submitted still complete). Later calls on this client fail with 404.</summary>
    public Task CloseAsync(CancellationToken cancellationToken = default) =>
        _transport.SendAsync<object>(HttpMethod.Delete, Routes.SamplingSession(SessionId), null, cancellationToken);
}
