using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>
/// One micro-batch update of a reward model, in this order:
/// <list type="number">
/// <item>take the next events after the cursor (at most batch_events);</item>
/// <item>score them with the current version and record whether each was predicted right
/// (prequential: before any training on them);</item>
/// <item>add replay: a seeded sample of the feedback earlier versions trained on, replay_fraction
/// of the micro-batch, against forgetting;</item>
/// <item>weight every event so no end user carries more than user_cap of the batch's weight;</item>
/// <item>steps_per_update × (binary_logistic on the labelled events, bradley_terry on the pairs, one optimizer step);</item>
/// <item>save the training state as rm-v{N+1}, then commit the version record, the new cursor,
/// the event count and the predictions in one transaction.</item>
/// </list>
/// A crash before the commit leaves the previous version current and its events unconsumed: the
/// next update (after the committed state is reloaded) trains on them once.
/// </summary>
internal sealed class RewardModelUpdater(IMetadataStore store, RunCalls calls, CorrectionEncoder encode, int maxTokens)
{
    public async Task<RewardModelUpdate?> UpdateAsync(RewardModelRecord model, RewardModelSettings settings, CancellationToken ct)
    {
        var (events, cursor) = await FeedbackStream.NextAsync(store, model, settings.BatchEvents, encode, maxTokens, ct);
        if (events.Count == 0) return null;
        var predictions = await PredictAsync(model, events, ct);

        var versions = await store.ListRewardModelVersionsAsync(model.Tenant, model.Deployment, ct);
        var replay = await ReplayAsync(model, settings, versions, events.Count, ct);
        var batch = events.Concat(replay).ToList();
        var weights = UserInfluenceCap.Weights(batch.Select(e => e.User).ToArray(), settings.UserCap);

        var losses = new List<double>();
        long optimizerStep = 0;
        for (int step = 0; step < settings.StepsPerUpdate; step++)
        {
            double loss = 0;
            var labelled = Enumerable.Range(0, batch.Count).Where(i => !batch[i].IsPair).ToArray();
            var pairs = Enumerable.Range(0, batch.Count).Where(i => batch[i].IsPair).ToArray();
            if (labelled.Length > 0)
                loss += (await calls.ForwardBackwardAsync(labelled.Select(i => Datum(batch[i].Sequence!, weights[i], batch[i].Label)).ToArray(),
                    "binary_logistic", ct)).Metrics["loss:sum"];
            if (pairs.Length > 0)
                loss += (await calls.ForwardBackwardAsync(pairs.SelectMany(i => new[] { Datum(batch[i].Chosen!, weights[i]), Datum(batch[i].Rejected!, weights[i]) }).ToArray(),
                    "bradley_terry", ct)).Metrics["loss:sum"];
            losses.Add(loss / batch.Count);
            optimizerStep = (await calls.OptimStepAsync(settings.LearningRate, ct)).Step;
        }

        int next = model.Version + 1;
        string state = await calls.SaveStateAsync($"rm-v{next}", ct);
        var shares = batch.Select((e, i) => (e.User, W: weights[i])).GroupBy(x => x.User).Select(g => g.Sum(x => x.W) / weights.Sum());
        var metrics = new Dictionary<string, double>
        {
            ["new_events"] = events.Count,
            ["replay_events"] = replay.Count,
            ["prequential_predicted"] = predictions.Count,
            ["prequential_correct"] = predictions.Count(p => p.Correct),
            ["loss_first_step"] = losses[0],
            ["loss_last_step"] = losses[^1],
            ["max_user_weight_share"] = shares.Max(),
            ["optimizer_step"] = optimizerStep,
        };
        var record = new RewardModelVersionRecord(model.Tenant, model.Deployment, next, state, DateTimeOffset.UtcNow)
        {
            FeedbackIdsJson = JsonSerializer.Serialize(events.Select(e => e.FeedbackId)),
            ReplayIdsJson = JsonSerializer.Serialize(replay.Select(e => e.FeedbackId)),
            MetricsJson = JsonSerializer.Serialize(metrics),
        };
        if (!await store.CommitRewardModelVersionAsync(record, model.Version, cursor, model.EventsSeen + events.Count, predictions, ct))
            throw ApiError.Conflict($"reward model of '{model.Deployment}' moved past version {model.Version} during the update");
        return new RewardModelUpdate(RewardModelVersion.From(record), events.Count, replay.Count, predictions.Count, predictions.Count(p => p.Correct));
    }

    /// <summary>The current version's prediction of each event with a direction, scored in one call
    /// before anything trains on them.</summary>
    async Task<List<RewardModelPredictionRecord>> PredictAsync(RewardModelRecord model, List<FeedbackExample> events, CancellationToken ct)
    {
        var scores = await calls.ScoreAsync(events.SelectMany(e => e.Sequences).ToArray(), ct);
        var predictions = new List<RewardModelPredictionRecord>();
        var now = DateTimeOffset.UtcNow;
        int at = 0;
        foreach (var e in events)
        {
            double margin = FeedbackExample.Margin(e, scores.Skip(at).Take(e.Sequences.Count).ToArray());
            at += e.Sequences.Count;
            if (e.HasDirection)
                predictions.Add(new RewardModelPredictionRecord(model.Tenant, model.Deployment, e.FeedbackId, model.Version, e.Kind, margin,
                    FeedbackExample.Correct(e, margin), now));
        }
        return predictions;
    }

    /// <summary>replay_fraction of the micro-batch from feedback earlier versions trained on, drawn
    /// with a seed of the model and version (the same update replays the same events).</summary>
    async Task<List<FeedbackExample>> ReplayAsync(RewardModelRecord model, RewardModelSettings settings, IReadOnlyList<RewardModelVersionRecord> versions,
        int newEvents, CancellationToken ct)
    {
        var seen = versions.SelectMany(v => JsonSerializer.Deserialize<string[]>(v.FeedbackIdsJson)!).Distinct().ToList();
        int count = Math.Min(seen.Count, (int)Math.Round(newEvents * settings.ReplayFraction / (1 - settings.ReplayFraction)));
        var random = new Random(unchecked((int)settings.Seed * 7919 + model.Version));
        var replay = new List<FeedbackExample>();
        foreach (var id in seen.OrderBy(_ => random.Next()).Take(count))
            if (await store.GetFeedbackAsync(id, ct) is { } f && await FeedbackExample.FromAsync(store, f, model.Deployment, encode, maxTokens, ct) is { } e)
                replay.Add(e);
        return replay;
    }

    static Datum Datum(IReadOnlyList<int> tokens, double weight, float? label = null)
    {
        var inputs = new Dictionary<string, TensorData> { ["weight"] = TensorData.Float32([(float)weight]) };
        if (label is float l) inputs["label"] = TensorData.Float32([l]);
        return new Datum(ModelInput.FromTokens(tokens), inputs);
    }
}
