using Whetstone.Protocol;

namespace Whetstone.Client;

public sealed partial class TrainingClient
{
    /// <summary>save_state with a TTL set at save time: the checkpoint expires
    /// <paramref name="ttl"/> after the save (null keeps it until deleted).</summary>
    public Task<ApiFuture<SaveStateOutput>> SaveStateAsync(string name, TimeSpan? ttl, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.SaveState(RunId), new SaveStateRequest(name) { TtlSeconds = ttl?.TotalSeconds },
            ApiFuture<SaveStateOutput>.DecodeJson, cancellationToken);

    /// <summary>save_weights_for_sampler with a TTL set at save time.</summary>
    public Task<ApiFuture<SaveStateOutput>> SaveWeightsForSamplerAsync(string name, TimeSpan? ttl, CancellationToken cancellationToken = default) =>
        SubmitInOrderAsync(Routes.SaveWeightsForSampler(RunId), new SaveStateRequest(name) { TtlSeconds = ttl?.TotalSeconds },
            ApiFuture<SaveStateOutput>.DecodeJson, cancellationToken);

    // The server names it (whet://<run>/sampler_weights/ephemeral-…), keeps it out of lists and lets it expire.
    Task<ApiFuture<SaveStateOutput>> SaveEphemeralWeightsForSamplerAsync(CancellationToken cancellationToken) =>
        SubmitInOrderAsync(Routes.SaveWeightsForSampler(RunId), new SaveStateRequest(null) { Ephemeral = true },
            ApiFuture<SaveStateOutput>.DecodeJson, cancellationToken);
}
