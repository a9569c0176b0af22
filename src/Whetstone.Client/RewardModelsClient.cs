using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// A deployment's streaming reward model: a LoRA adapter with a scalar value head on the
/// deployment's base model, trained inside the service on the feedback its answers get, in
/// micro-batches (every batch_events events or interval_seconds). Each update is a version whose
/// lineage names the feedback it trained on; each event is predicted before it is trained on, and
/// that prequential accuracy is the model's running score.
/// </summary>
public sealed class RewardModelsClient
{
    readonly ITransport _transport;

    internal RewardModelsClient(ITransport transport) => _transport = transport;

    /// <summary>Starts the deployment's reward model (version 0, untrained). <paramref name="baseModel"/>
    /// defaults to the deployment's current version's.</summary>
    public Task<RewardModelInfo> CreateAsync(string deployment, RewardModelSettings? settings = null, string? baseModel = null,
        CancellationToken cancellationToken = default) =>
        _transport.PostAsync<CreateRewardModelRequest, RewardModelInfo>(Routes.RewardModel(Escape(deployment)),
            new CreateRewardModelRequest { BaseModel = baseModel, Settings = settings ?? new RewardModelSettings() }, cancellationToken);

    /// <summary>Version, events seen and waiting, settings, and prequential accuracy per update.</summary>
    public Task<RewardModelInfo> GetAsync(string deployment, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<RewardModelInfo>(Routes.RewardModel(Escape(deployment)), cancellationToken);

    /// <summary>The current version's score of each (prompt tokens, answer tokens).</summary>
    public Task<ScoreAnswersResponse> ScoreAsync(string deployment, IReadOnlyList<AnswerToScore> pairs, CancellationToken cancellationToken = default) =>
        _transport.PostAsync<ScoreAnswersRequest, ScoreAnswersResponse>(Routes.RewardModelScore(Escape(deployment)), new ScoreAnswersRequest { Pairs = pairs }, cancellationToken);

    /// <summary>Trains one micro-batch of the feedback waiting now; Updated is false when none waited.</summary>
    public Task<RewardModelUpdateInfo> UpdateNowAsync(string deployment, CancellationToken cancellationToken = default) =>
        _transport.PostAsync<object?, RewardModelUpdateInfo>(Routes.RewardModelUpdate(Escape(deployment)), null, cancellationToken);

    /// <summary>Every version, oldest first, with the feedback ids each trained on (lineage).</summary>
    public async Task<IReadOnlyList<RewardModelVersionInfo>> VersionsAsync(string deployment, CancellationToken cancellationToken = default) =>
        (await _transport.GetAsync<RewardModelVersionList>(Routes.RewardModelVersions(Escape(deployment)), cancellationToken).ConfigureAwait(false)).Versions;

    /// <summary>The corrections users made to the deployment's answers, as SFT examples.</summary>
    public async Task<IReadOnlyList<CorrectionExample>> CorrectionsAsync(string deployment, CancellationToken cancellationToken = default) =>
        (await _transport.GetAsync<CorrectionList>(Routes.RewardModelCorrections(Escape(deployment)), cancellationToken).ConfigureAwait(false)).Corrections;

    static string Escape(string name) => Uri.EscapeDataString(name);
}
