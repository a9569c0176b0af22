using System.Data.Common;

namespace Whetstone.Service.Persistence;

// Streaming reward models: the model and its feedback cursor, its versions (lineage), and the
// predictions each version made before training (prequential accuracy).
public abstract partial class SqlMetadataStore
{
    private const string RewardModelColumns = "tenant, deployment, run_id, base_model, config_json, created_at, version, cursor_id, events_seen";
    private const string RewardModelVersionColumns = "tenant, deployment, version, state_path, created_at, feedback_ids_json, replay_ids_json, metrics_json";
    private const string PredictionColumns = "tenant, deployment, feedback_id, predicted_by, kind, margin, correct, created_at";

    public async Task<bool> InsertRewardModelAsync(RewardModelRecord m, RewardModelVersionRecord initial, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int inserted = await ExecuteAsync(connection, transaction,
            $"""
            INSERT INTO reward_models ({RewardModelColumns})
            VALUES (@tenant, @deployment, @run, @base, @config, @created, @version, @cursor, @seen)
            ON CONFLICT (tenant, deployment) DO NOTHING
            """,
            cancellationToken, ("@tenant", m.Tenant), ("@deployment", m.Deployment), ("@run", m.RunId), ("@base", m.BaseModel),
            ("@config", m.ConfigJson), ("@created", Timestamp(m.CreatedAt)), ("@version", m.Version), ("@cursor", m.Cursor), ("@seen", m.EventsSeen));
        if (inserted == 0) return false;
        await InsertRewardModelVersionAsync(connection, transaction, initial, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public Task<RewardModelRecord?> GetRewardModelAsync(string tenant, string deployment, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {RewardModelColumns} FROM reward_models WHERE tenant = @tenant AND deployment = @deployment",
            ReadRewardModel, cancellationToken, ("@tenant", tenant), ("@deployment", deployment));

    public Task<IReadOnlyList<RewardModelRecord>> ListRewardModelsAsync(CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {RewardModelColumns} FROM reward_models ORDER BY tenant, deployment", ReadRewardModel, cancellationToken);

    public async Task<bool> CommitRewardModelVersionAsync(RewardModelVersionRecord version, int fromVersion, string? cursor, long eventsSeen,
        IReadOnlyList<RewardModelPredictionRecord> predictions, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The compare-and-set on the version makes a second committer of the same update fail
        // instead of moving the cursor twice.
        int moved = await ExecuteAsync(connection, transaction,
            """
            UPDATE reward_models SET version = @version, cursor_id = @cursor, events_seen = @seen
            WHERE tenant = @tenant AND deployment = @deployment AND version = @from
            """,
            cancellationToken, ("@version", version.Version), ("@cursor", cursor), ("@seen", eventsSeen),
            ("@tenant", version.Tenant), ("@deployment", version.Deployment), ("@from", fromVersion));
        if (moved == 0) return false;
        await InsertRewardModelVersionAsync(connection, transaction, version, cancellationToken);
        foreach (var p in predictions)
            await ExecuteAsync(connection, transaction,
                $"INSERT INTO reward_model_predictions ({PredictionColumns}) VALUES (@tenant, @deployment, @feedback, @by, @kind, @margin, @correct, @created)",
                cancellationToken, ("@tenant", p.Tenant), ("@deployment", p.Deployment), ("@feedback", p.FeedbackId), ("@by", p.PredictedBy),
                ("@kind", p.Kind), ("@margin", p.Margin), ("@correct", p.Correct), ("@created", Timestamp(p.CreatedAt)));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public Task<IReadOnlyList<RewardModelVersionRecord>> ListRewardModelVersionsAsync(string tenant, string deployment, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {RewardModelVersionColumns} FROM reward_model_versions WHERE tenant = @tenant AND deployment = @deployment ORDER BY version",
            r => new RewardModelVersionRecord(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), ReadTimestamp(r, 4))
            {
                FeedbackIdsJson = r.GetString(5), ReplayIdsJson = r.GetString(6), MetricsJson = r.GetString(7),
            },
            cancellationToken, ("@tenant", tenant), ("@deployment", deployment));

    public Task<IReadOnlyList<RewardModelPredictionRecord>> ListRewardModelPredictionsAsync(string tenant, string deployment, CancellationToken cancellationToken = default) =>
        QueryAsync(
            $"SELECT {PredictionColumns} FROM reward_model_predictions WHERE tenant = @tenant AND deployment = @deployment ORDER BY predicted_by, created_at, feedback_id",
            r => new RewardModelPredictionRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetString(4), r.GetDouble(5),
                r.GetBoolean(6), ReadTimestamp(r, 7)),
            cancellationToken, ("@tenant", tenant), ("@deployment", deployment));

    /// <summary>One feedback record by id (replaying what an earlier version trained on).</summary>
    public Task<FeedbackRecord?> GetFeedbackAsync(string id, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {FeedbackColumns} FROM feedback WHERE id = @id", ReadFeedback, cancellationToken, ("@id", id));

    private Task<int> InsertRewardModelVersionAsync(DbConnection connection, DbTransaction transaction, RewardModelVersionRecord v,
        CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            $"""
            INSERT INTO reward_model_versions ({RewardModelVersionColumns})
            VALUES (@tenant, @deployment, @version, @state, @created, @feedback, @replay, @metrics)
            """,
            cancellationToken, ("@tenant", v.Tenant), ("@deployment", v.Deployment), ("@version", v.Version), ("@state", v.StatePath),
            ("@created", Timestamp(v.CreatedAt)), ("@feedback", v.FeedbackIdsJson), ("@replay", v.ReplayIdsJson), ("@metrics", v.MetricsJson));

    private RewardModelRecord ReadRewardModel(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), ReadTimestamp(r, 5))
        {
            Version = r.GetInt32(6), Cursor = ReadNullableString(r, 7), EventsSeen = r.GetInt64(8),
        };
}
