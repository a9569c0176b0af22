using System.Collections.Concurrent;
using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>
/// The streaming reward model of each deployment: a LoRA adapter plus a scalar value head on the
/// deployment's base model, held as an ordinary training run of the tenant (user metadata
/// <see cref="RunMarker"/> = the deployment) and trained through the engine worker like any run;
/// this class holds only records. Feedback on the deployment's answers is consumed in
/// micro-batches (<see cref="RewardModelUpdater"/>); every update is a saved training state and a
/// version record carrying its lineage, committed together with the feedback cursor.
/// <para>What the experiential loop calls (all tenant-scoped by <paramref name="caller"/>; another
/// tenant's deployment is "not found"):</para>
/// <list type="bullet">
/// <item><see cref="ScoreAsync"/>: the current version's score of each (prompt tokens, answer tokens).</item>
/// <item><see cref="CurrentVersionAsync"/>: the version scores come from now (null: no reward model).</item>
/// <item><see cref="UpdateNowAsync"/>: one micro-batch update now (null: no new feedback).</item>
/// <item><see cref="VersionsAsync"/> and <see cref="FirstTrainedOnAsync"/>: which feedback trained which version.</item>
/// <item><see cref="CorrectionsAsync"/>: corrections as SFT examples for the policy.</item>
/// </list>
/// </summary>
internal sealed class RewardModelService(ServiceContext context, TrainingRunService runs)
{
    /// <summary>The user-metadata key that marks a run as a deployment's reward model.</summary>
    public const string RunMarker = "whetstone.reward_model_of";

    readonly ConcurrentDictionary<(string, string), SemaphoreSlim> _locks = new();
    readonly ConcurrentDictionary<(string, string), bool> _restored = new();

    public async Task<RewardModelInfo> CreateAsync(Caller caller, string deployment, CreateRewardModelRequest? request, CancellationToken ct = default)
    {
        request ??= new CreateRewardModelRequest();
        RewardModelSettingsCheck.Check(request.Settings);
        var record = await context.Store.GetDeploymentAsync(caller.Tenant, deployment, ct) ?? throw ApiError.NotFound("deployment", deployment);
        string baseModel = request.BaseModel ?? await DeployedBaseModelAsync(caller, record, ct)
            ?? throw ApiError.BadRequest("base_model", $"is required: deployment '{deployment}' has no version yet to take the base model from");
        if (!context.Models.Contains(baseModel)) context.Models.Directory(baseModel);   // throws, naming the models served
        if (await context.Store.GetRewardModelAsync(caller.Tenant, deployment, ct) is not null)
            throw ApiError.Conflict($"deployment '{deployment}' already has a reward model");

        var key = (caller.Tenant, deployment);
        var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1));
        await gate.WaitAsync(ct);
        try
        {
            var run = await runs.CreateAsync(caller, new CreateTrainingRunRequest(baseModel)
            {
                Rank = request.Settings.Rank, Seed = request.Settings.Seed, ValueHead = true,
                UserMetadata = new Dictionary<string, string> { [RunMarker] = deployment },
            });
            var calls = new RunCalls(context, runs, caller, run.RunId);
            string state = await calls.SaveStateAsync("rm-v0", ct);
            var now = DateTimeOffset.UtcNow;
            var model = new RewardModelRecord(caller.Tenant, deployment, run.RunId, baseModel, JsonSerializer.Serialize(request.Settings, ProtocolJson.Options), now);
            if (!await context.Store.InsertRewardModelAsync(model, new RewardModelVersionRecord(caller.Tenant, deployment, 0, state, now), ct))
                throw ApiError.Conflict($"deployment '{deployment}' already has a reward model");
            _restored[key] = true;
        }
        finally
        {
            gate.Release();
        }
        return await StatusAsync(caller, deployment, ct);
    }

    public async Task<RewardModelInfo> StatusAsync(Caller caller, string deployment, CancellationToken ct = default)
    {
        var model = await OwnedAsync(caller, deployment, ct);
        var versions = await context.Store.ListRewardModelVersionsAsync(caller.Tenant, deployment, ct);
        var predictions = await context.Store.ListRewardModelPredictionsAsync(caller.Tenant, deployment, ct);
        var (pending, _) = await FeedbackStream.NextAsync(context.Store, model, RewardModelSettingsCheck.MaxBatchEvents, Encoder(model), MaxTokens(model), ct);
        return new RewardModelInfo(deployment, model.RunId, model.BaseModel, model.Version, model.EventsSeen, pending.Count, Settings(model),
            Prequential.Series(predictions, versions)) { CreatedAt = model.CreatedAt };
    }

    /// <summary>The current version's score of each (prompt, answer): its value head on the
    /// answer's last token. Tokens are checked against the base model, naming pairs[i].</summary>
    public async Task<IReadOnlyList<double>> ScoreAsync(Caller caller, string deployment,
        IReadOnlyList<(IReadOnlyList<int> PromptTokens, IReadOnlyList<int> AnswerTokens)> pairs, CancellationToken ct = default) =>
        (await ScoreWithVersionAsync(caller, deployment, pairs, ct)).Scores;

    /// <summary><see cref="ScoreAsync"/> and the version that gave the scores.</summary>
    public async Task<(int Version, IReadOnlyList<double> Scores)> ScoreWithVersionAsync(Caller caller, string deployment,
        IReadOnlyList<(IReadOnlyList<int> PromptTokens, IReadOnlyList<int> AnswerTokens)> pairs, CancellationToken ct = default)
    {
        var model = await OwnedAsync(caller, deployment, ct);
        var sequences = CheckedSequences(model, pairs);
        return await LockedAsync(model, async (fresh, calls) => (fresh.Version, await calls.ScoreAsync(sequences, ct)), ct);
    }

    public async Task<RewardModelVersion?> CurrentVersionAsync(Caller caller, string deployment, CancellationToken ct = default)
    {
        var model = await context.Store.GetRewardModelAsync(caller.Tenant, deployment, ct);
        if (model is null) return null;
        var versions = await context.Store.ListRewardModelVersionsAsync(caller.Tenant, deployment, ct);
        return versions.Where(v => v.Version == model.Version).Select(RewardModelVersion.From).SingleOrDefault();
    }

    /// <summary>Trains one micro-batch of the feedback waiting (at most settings.batch_events
    /// events, plus replay) and records it as the next version; null when none waits.</summary>
    public async Task<RewardModelUpdate?> UpdateNowAsync(Caller caller, string deployment, CancellationToken ct = default)
    {
        var model = await OwnedAsync(caller, deployment, ct);
        return await LockedAsync(model, (fresh, calls) =>
            new RewardModelUpdater(context.Store, calls, Encoder(fresh), MaxTokens(fresh)).UpdateAsync(fresh, Settings(fresh), ct), ct);
    }

    /// <summary>Every version, oldest first (version 0: the untrained model).</summary>
    public async Task<IReadOnlyList<RewardModelVersion>> VersionsAsync(Caller caller, string deployment, CancellationToken ct = default)
    {
        await OwnedAsync(caller, deployment, ct);
        return (await context.Store.ListRewardModelVersionsAsync(caller.Tenant, deployment, ct)).Select(RewardModelVersion.From).ToArray();
    }

    /// <summary>The version that first trained on feedback <paramref name="feedbackId"/>; null if none has yet.</summary>
    public async Task<int?> FirstTrainedOnAsync(Caller caller, string deployment, string feedbackId, CancellationToken ct = default) =>
        (await VersionsAsync(caller, deployment, ct)).FirstOrDefault(v => v.FeedbackIds.Contains(feedbackId))?.Version;

    /// <summary>Of the newest <paramref name="window"/> prequential predictions (each made before the
    /// update that trained on its event), how many there are and how many were right.</summary>
    public async Task<(int Predicted, int Correct)> RecentAccuracyAsync(Caller caller, string deployment, int window, CancellationToken ct = default)
    {
        await OwnedAsync(caller, deployment, ct);
        var recent = (await context.Store.ListRewardModelPredictionsAsync(caller.Tenant, deployment, ct))
            .OrderBy(p => p.PredictedBy).ThenBy(p => p.CreatedAt).TakeLast(window).ToArray();
        return (recent.Length, recent.Count(p => p.Correct));
    }

    /// <summary>The corrections of the deployment's answers, oldest first, as SFT examples.</summary>
    public async Task<IReadOnlyList<CorrectionExample>> CorrectionsAsync(Caller caller, string deployment, CancellationToken ct = default)
    {
        var model = await OwnedAsync(caller, deployment, ct);
        return await Corrections.ListAsync(context.Store, caller.Tenant, deployment, Encoder(model), ct);
    }

    /// <summary>Every reward model due an update by its settings: batch_events waiting, or any
    /// waiting and interval_seconds since its last version. For the background updater.</summary>
    internal async Task UpdateDueAsync(CancellationToken ct)
    {
        foreach (var model in await context.Store.ListRewardModelsAsync(ct))
        {
            var settings = Settings(model);
            if (!settings.AutoUpdate) continue;
            var (pending, _) = await FeedbackStream.NextAsync(context.Store, model, settings.BatchEvents, Encoder(model), MaxTokens(model), ct);
            if (pending.Count == 0) continue;
            var last = (await context.Store.ListRewardModelVersionsAsync(model.Tenant, model.Deployment, ct))[^1].CreatedAt;
            if (pending.Count >= settings.BatchEvents || DateTimeOffset.UtcNow - last >= TimeSpan.FromSeconds(settings.IntervalSeconds))
                await UpdateNowAsync(OwnerOf(model), model.Deployment, ct);
        }
    }

    /// <summary>Runs <paramref name="work"/> alone on the model (updates and scores do not
    /// interleave), with the model's run at its committed version: after a restart, or after an
    /// update that failed half-way, the committed version's state is loaded first.</summary>
    async Task<T> LockedAsync<T>(RewardModelRecord model, Func<RewardModelRecord, RunCalls, Task<T>> work, CancellationToken ct)
    {
        var key = (model.Tenant, model.Deployment);
        var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1));
        await gate.WaitAsync(ct);
        try
        {
            var fresh = await context.Store.GetRewardModelAsync(model.Tenant, model.Deployment, ct) ?? throw ApiError.NotFound("reward model of deployment", model.Deployment);
            var calls = new RunCalls(context, runs, OwnerOf(fresh), fresh.RunId);
            if (!_restored.ContainsKey(key))
            {
                var committed = (await context.Store.ListRewardModelVersionsAsync(fresh.Tenant, fresh.Deployment, ct)).Single(v => v.Version == fresh.Version);
                await calls.LoadStateAsync(committed.StatePath, ct);
                _restored[key] = true;
            }
            try { return await work(fresh, calls); }
            catch
            {
                _restored.TryRemove(key, out _);   // the run may hold uncommitted training: reload before the next use
                throw;
            }
        }
        finally
        {
            gate.Release();
        }
    }

    async Task<RewardModelRecord> OwnedAsync(Caller caller, string deployment, CancellationToken ct) =>
        await context.Store.GetRewardModelAsync(caller.Tenant, deployment, ct) ?? throw ApiError.NotFound("reward model of deployment", deployment);

    async Task<string?> DeployedBaseModelAsync(Caller caller, DeploymentRecord deployment, CancellationToken ct)
    {
        if (deployment.CurrentVersion == 0) return null;
        var version = (await context.Store.ListDeploymentVersionsAsync(caller.Tenant, deployment.Name, ct)).Single(v => v.Version == deployment.CurrentVersion);
        var checkpoint = await context.Store.GetCheckpointAsync(version.CheckpointPath, ct);
        return checkpoint is null ? null : (await context.Store.GetRunAsync(checkpoint.RunId, ct))?.BaseModel;
    }

    IReadOnlyList<IReadOnlyList<int>> CheckedSequences(RewardModelRecord model, IReadOnlyList<(IReadOnlyList<int> PromptTokens, IReadOnlyList<int> AnswerTokens)> pairs)
    {
        if (pairs is null || pairs.Count == 0) throw ApiError.BadRequest("pairs", "is empty: give at least one {prompt_tokens, answer_tokens}");
        var config = context.Host(model.BaseModel).Worker.Config;
        var sequences = new IReadOnlyList<int>[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            var (prompt, answer) = pairs[i];
            if (prompt is null) throw ApiError.BadRequest($"pairs[{i}].prompt_tokens", "is required");
            if (answer is null || answer.Count == 0) throw ApiError.BadRequest($"pairs[{i}].answer_tokens", "is empty: the score is read at the answer's last token");
            foreach (var (tokens, field) in new[] { (prompt, "prompt_tokens"), (answer, "answer_tokens") })
                for (int t = 0; t < tokens.Count; t++)
                    if (tokens[t] < 0 || tokens[t] >= config.VocabSize)
                        throw ApiError.BadRequest($"pairs[{i}].{field}[{t}]", $"= {tokens[t]} is outside the vocabulary [0, {config.VocabSize})");
            if (prompt.Count + answer.Count > config.MaxPositionEmbeddings)
                throw ApiError.BadRequest($"pairs[{i}]", $"has {prompt.Count + answer.Count} tokens, more than the model's maximum of {config.MaxPositionEmbeddings}");
            sequences[i] = [.. prompt, .. answer];
        }
        return sequences;
    }

    CorrectionEncoder Encoder(RewardModelRecord model) => CorrectionEncoder.For(context.Host(model.BaseModel).Worker.Tokenizer);

    int MaxTokens(RewardModelRecord model) => context.Host(model.BaseModel).Worker.Config.MaxPositionEmbeddings;

    static RewardModelSettings Settings(RewardModelRecord model) => JsonSerializer.Deserialize<RewardModelSettings>(model.ConfigJson, ProtocolJson.Options)!;

    // The background updater acts for the model's tenant, as the model itself (usage is booked to this id).
    static Caller OwnerOf(RewardModelRecord model) => new(model.Tenant, $"reward-model:{model.Deployment}", IsAdmin: false);
}
