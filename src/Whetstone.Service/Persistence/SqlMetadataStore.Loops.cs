using System.Data.Common;

namespace Whetstone.Service.Persistence;

// Experiential loops and their iterations. Every state change of a loop is one transaction with
// its iteration row, so a server stopped at any point restarts from a consistent state: the
// feedback cursor moves only together with the iteration that finished with it.
public abstract partial class SqlMetadataStore
{
    private const string LoopColumns =
        "id, tenant, deployment, spec_json, status, state, iteration, feedback_cursor, feedback_consumed, last_iteration_at, created_at";

    private const string IterationColumns =
        "loop_id, iteration, stage, started_at, window_end, feedback_ids_json, deployed_version, rm_version, candidate_run, " +
        "policy_checkpoint, deployment_version, outcome, reason, metrics_json, finished_at";

    public Task InsertLoopAsync(LoopRecord l, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            $"""
            INSERT INTO loops ({LoopColumns})
            VALUES (@id, @tenant, @deployment, @spec, @status, @state, @iteration, @cursor, @consumed, @last, @created)
            """,
            cancellationToken, ("@id", l.Id), ("@tenant", l.Tenant), ("@deployment", l.Deployment), ("@spec", l.SpecJson),
            ("@status", l.Status), ("@state", l.State), ("@iteration", l.Iteration), ("@cursor", l.FeedbackCursor),
            ("@consumed", l.FeedbackConsumed), ("@last", Timestamp(l.LastIterationAt)), ("@created", Timestamp(l.CreatedAt)));

    public Task<LoopRecord?> GetLoopAsync(string id, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {LoopColumns} FROM loops WHERE id = @id AND status <> 'deleted'", ReadLoop, cancellationToken, ("@id", id));

    public Task<IReadOnlyList<LoopRecord>> ListLoopsAsync(string? tenant, CancellationToken cancellationToken = default) =>
        QueryAsync(
            $"SELECT {LoopColumns} FROM loops WHERE (CAST(@tenant AS TEXT) IS NULL OR tenant = @tenant) AND status <> 'deleted' ORDER BY created_at, id",
            ReadLoop, cancellationToken, ("@tenant", tenant));

    public async Task<bool> UpdateLoopSettingsAsync(string id, string specJson, string status, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE loops SET spec_json = @spec, status = @status WHERE id = @id AND status <> 'deleted'",
            cancellationToken, ("@spec", specJson), ("@status", status), ("@id", id)) > 0;

    public async Task<bool> StartLoopIterationAsync(LoopRecord loop, LoopIterationRecord it, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int changed = await ExecuteAsync(connection, transaction,
            "UPDATE loops SET state = 'training', iteration = @next WHERE id = @id AND state = 'idle' AND iteration = @current AND status = 'active'",
            cancellationToken, ("@next", it.Iteration), ("@id", loop.Id), ("@current", loop.Iteration));
        if (changed == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }
        await ExecuteAsync(connection, transaction,
            $"""
            INSERT INTO loop_iterations ({IterationColumns})
            VALUES (@loop, @iteration, @stage, @started, @window_end, @feedback, @deployed, @rm, @run, @policy, @version, @outcome,
                    @reason, @metrics, @finished)
            """,
            cancellationToken, IterationParameters(it));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task UpdateLoopIterationAsync(LoopIterationRecord it, string loopState, CancellationToken cancellationToken = default) =>
        await ExecuteInTransactionAsync(cancellationToken,
            (UpdateIterationSql, IterationParameters(it)),
            ("UPDATE loops SET state = @state WHERE id = @loop", [("@state", loopState), ("@loop", it.LoopId)]));

    public async Task FinishLoopIterationAsync(LoopIterationRecord it, bool consumed, CancellationToken cancellationToken = default)
    {
        int count = consumed ? System.Text.Json.JsonSerializer.Deserialize<string[]>(it.FeedbackIdsJson)!.Length : 0;
        await ExecuteInTransactionAsync(cancellationToken,
            (UpdateIterationSql, IterationParameters(it)),
            ("""
             UPDATE loops SET state = 'idle', last_iteration_at = @at,
                 feedback_cursor = CASE WHEN @consumed = 1 AND CAST(@cursor AS TEXT) IS NOT NULL THEN @cursor ELSE feedback_cursor END,
                 feedback_consumed = feedback_consumed + @count
             WHERE id = @loop
             """,
             [("@at", Timestamp(it.FinishedAt ?? DateTimeOffset.UtcNow)), ("@consumed", consumed ? 1 : 0), ("@cursor", it.WindowEnd),
              ("@count", count), ("@loop", it.LoopId)]));
    }

    public Task<IReadOnlyList<LoopIterationRecord>> ListLoopIterationsAsync(string loopId, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {IterationColumns} FROM loop_iterations WHERE loop_id = @loop ORDER BY iteration",
            ReadIteration, cancellationToken, ("@loop", loopId));

    // substr, not LIKE: '_' in a deployment's name would be a wildcard.
    public Task<IReadOnlyList<DeploymentFeedback>> ListDeploymentFeedbackAsync(string tenant, string deployment, string? afterId, DateTimeOffset before,
        int limit, CancellationToken cancellationToken = default) =>
        QueryAsync(
            """
            SELECT f.id, f.tenant, f.completion_id, f.kind, f.choice_index, f.rating, f.correction, f.rejected_completion_id, f.comment,
                   f.created_at, c.deployment, c.arm, c.end_user
            FROM feedback f JOIN served_completions c ON c.id = f.completion_id AND c.tenant = f.tenant
            WHERE f.tenant = @tenant AND substr(c.deployment, 1, @length) = @prefix AND f.created_at < @before
              AND (CAST(@after AS TEXT) IS NULL OR (f.created_at, f.id) > (SELECT a.created_at, a.id FROM feedback a WHERE a.id = @after))
            ORDER BY f.created_at, f.id LIMIT @limit
            """,
            r => new DeploymentFeedback(ReadFeedback(r), ReadNullableString(r, 10), ReadNullableString(r, 11)) { User = ReadNullableString(r, 12) },
            cancellationToken, ("@tenant", tenant), ("@length", deployment.Length + 1), ("@prefix", deployment + "@"),
            ("@before", Timestamp(before)), ("@after", afterId), ("@limit", limit));

    public Task<IReadOnlyList<ServedCompletionRecord>> ListDeploymentCompletionsAsync(string tenant, string deployment, int limit,
        CancellationToken cancellationToken = default) =>
        QueryAsync(
            $"""
            SELECT {ServedCompletionColumns} FROM served_completions
            WHERE tenant = @tenant AND substr(deployment, 1, @length) = @prefix
            ORDER BY created_at DESC, id DESC LIMIT @limit
            """,
            ReadServedCompletion, cancellationToken, ("@tenant", tenant), ("@length", deployment.Length + 1), ("@prefix", deployment + "@"),
            ("@limit", limit));

    private const string UpdateIterationSql =
        """
        UPDATE loop_iterations SET stage = @stage, window_end = @window_end, feedback_ids_json = @feedback, deployed_version = @deployed,
            rm_version = @rm, candidate_run = @run, policy_checkpoint = @policy, deployment_version = @version, outcome = @outcome,
            reason = @reason, metrics_json = @metrics, finished_at = @finished
        WHERE loop_id = @loop AND iteration = @iteration
        """;

    private (string, object?)[] IterationParameters(LoopIterationRecord it) =>
    [
        ("@loop", it.LoopId), ("@iteration", it.Iteration), ("@stage", it.Stage), ("@started", Timestamp(it.StartedAt)),
        ("@window_end", it.WindowEnd), ("@feedback", it.FeedbackIdsJson), ("@deployed", it.DeployedVersion), ("@rm", it.RmVersion),
        ("@run", it.CandidateRun), ("@policy", it.PolicyCheckpoint), ("@version", it.DeploymentVersion), ("@outcome", it.Outcome),
        ("@reason", it.Reason), ("@metrics", it.MetricsJson), ("@finished", Timestamp(it.FinishedAt)),
    ];

    private LoopRecord ReadLoop(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), ReadTimestamp(r, 10))
        {
            Status = r.GetString(4), State = r.GetString(5), Iteration = r.GetInt32(6), FeedbackCursor = ReadNullableString(r, 7),
            FeedbackConsumed = r.GetInt64(8), LastIterationAt = ReadNullableTimestamp(r, 9),
        };

    private LoopIterationRecord ReadIteration(DbDataReader r) =>
        new(r.GetString(0), r.GetInt32(1), ReadTimestamp(r, 3))
        {
            Stage = r.GetString(2), WindowEnd = ReadNullableString(r, 4), FeedbackIdsJson = r.GetString(5), DeployedVersion = r.GetInt32(6),
            RmVersion = ReadNullableString(r, 7), CandidateRun = ReadNullableString(r, 8), PolicyCheckpoint = ReadNullableString(r, 9),
            DeploymentVersion = r.IsDBNull(10) ? null : r.GetInt32(10), Outcome = ReadNullableString(r, 11), Reason = ReadNullableString(r, 12),
            MetricsJson = ReadNullableString(r, 13), FinishedAt = ReadNullableTimestamp(r, 14),
        };
}
