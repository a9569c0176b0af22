using System.Data.Common;

namespace Whetstone.Service.Persistence;

// The served-completion log and the feedback on it. CAST(@after AS TEXT): PostgreSQL cannot
// type a parameter that is only ever compared with NULL.
public abstract partial class SqlMetadataStore
{
    private const string ServedCompletionColumns =
        "id, tenant, endpoint, model, base_model, checkpoint_path, deployment, end_user, created_at, request_json, " +
        "prompt_tokens_json, choices_json, params_json, latency_seconds, ttft_seconds, arm";

    private const string FeedbackColumns =
        "id, tenant, completion_id, kind, choice_index, rating, correction, rejected_completion_id, comment, created_at";

    public Task InsertServedCompletionAsync(ServedCompletionRecord c, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            $"""
            INSERT INTO served_completions ({ServedCompletionColumns})
            VALUES (@id, @tenant, @endpoint, @model, @base_model, @checkpoint, @deployment, @user, @created, @request,
                    @prompt_tokens, @choices, @params, @latency, @ttft, @arm)
            """,
            cancellationToken,
            ("@id", c.Id), ("@tenant", c.Tenant), ("@endpoint", c.Endpoint), ("@model", c.Model), ("@base_model", c.BaseModel),
            ("@checkpoint", c.CheckpointPath), ("@deployment", c.Deployment), ("@user", c.User), ("@created", Timestamp(c.CreatedAt)),
            ("@request", c.RequestJson), ("@prompt_tokens", c.PromptTokensJson), ("@choices", c.ChoicesJson), ("@params", c.ParamsJson),
            ("@latency", c.LatencySeconds), ("@ttft", c.TimeToFirstTokenSeconds), ("@arm", c.Arm));

    public Task<ServedCompletionRecord?> GetServedCompletionAsync(string id, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {ServedCompletionColumns} FROM served_completions WHERE id = @id",
            ReadServedCompletion, cancellationToken, ("@id", id));

    /// <summary>A tenant's completions, oldest first, after <paramref name="afterId"/> (exclusive) when given.</summary>
    public Task<IReadOnlyList<ServedCompletionRecord>> ListServedCompletionsAsync(string tenant, int limit, string? afterId = null,
        CancellationToken cancellationToken = default) =>
        QueryAsync(
            $"""
            SELECT {ServedCompletionColumns} FROM served_completions c WHERE tenant = @tenant
              AND (CAST(@after AS TEXT) IS NULL OR (created_at, id) > (SELECT a.created_at, a.id FROM served_completions a WHERE a.id = @after))
            ORDER BY created_at, id LIMIT @limit
            """,
            ReadServedCompletion, cancellationToken, ("@tenant", tenant), ("@after", afterId), ("@limit", limit));

    private ServedCompletionRecord ReadServedCompletion(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), ReadTimestamp(r, 8))
        {
            CheckpointPath = ReadNullableString(r, 5),
            Deployment = ReadNullableString(r, 6),
            User = ReadNullableString(r, 7),
            RequestJson = r.GetString(9),
            PromptTokensJson = r.GetString(10),
            ChoicesJson = r.GetString(11),
            ParamsJson = r.GetString(12),
            LatencySeconds = r.GetDouble(13),
            TimeToFirstTokenSeconds = r.IsDBNull(14) ? null : r.GetDouble(14),
            Arm = ReadNullableString(r, 15),
        };

    public Task InsertFeedbackAsync(FeedbackRecord f, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            $"""
            INSERT INTO feedback ({FeedbackColumns})
            VALUES (@id, @tenant, @completion, @kind, @choice, @rating, @correction, @rejected, @comment, @created)
            """,
            cancellationToken,
            ("@id", f.Id), ("@tenant", f.Tenant), ("@completion", f.CompletionId), ("@kind", f.Kind), ("@choice", f.ChoiceIndex),
            ("@rating", f.Rating), ("@correction", f.Correction), ("@rejected", f.RejectedCompletionId), ("@comment", f.Comment),
            ("@created", Timestamp(f.CreatedAt)));

    /// <summary>A tenant's feedback, oldest first, after <paramref name="afterId"/> (exclusive) when given.</summary>
    public Task<IReadOnlyList<FeedbackRecord>> ListFeedbackAsync(string tenant, int limit, string? afterId = null,
        CancellationToken cancellationToken = default) =>
        QueryAsync(
            $"""
            SELECT {FeedbackColumns} FROM feedback WHERE tenant = @tenant
              AND (CAST(@after AS TEXT) IS NULL OR (created_at, id) > (SELECT a.created_at, a.id FROM feedback a WHERE a.id = @after))
            ORDER BY created_at, id LIMIT @limit
            """,
            ReadFeedback, cancellationToken, ("@tenant", tenant), ("@after", afterId), ("@limit", limit));

    private FeedbackRecord ReadFeedback(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), ReadTimestamp(r, 9))
        {
            ChoiceIndex = r.GetInt32(4),
            Rating = r.IsDBNull(5) ? null : r.GetDouble(5),
            Correction = ReadNullableString(r, 6),
            RejectedCompletionId = ReadNullableString(r, 7),
            Comment = ReadNullableString(r, 8),
        };
}
