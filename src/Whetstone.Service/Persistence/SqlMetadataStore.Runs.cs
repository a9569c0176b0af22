using System.Data.Common;

namespace Whetstone.Service.Persistence;

// Training runs, listed per tenant.
public abstract partial class SqlMetadataStore
{
    private const string RunColumns =
        "id, tenant, base_model, created_at, full_fine_tuning, lora_config_json, user_metadata_json, step, " +
        "last_request_at, last_checkpoint, last_sampler_checkpoint";

    public Task InsertRunAsync(RunRecord run, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            $"""
            INSERT INTO runs ({RunColumns})
            VALUES (@id, @tenant, @base_model, @created, @full, @lora, @metadata, @step, @last_request, @last_checkpoint, @last_sampler)
            """,
            cancellationToken,
            ("@id", run.Id), ("@tenant", run.Tenant), ("@base_model", run.BaseModel), ("@created", Timestamp(run.CreatedAt)),
            ("@full", run.FullFineTuning), ("@lora", run.LoraConfigJson), ("@metadata", run.UserMetadataJson),
            ("@step", run.Step), ("@last_request", Timestamp(run.LastRequestAt)),
            ("@last_checkpoint", run.LastCheckpoint), ("@last_sampler", run.LastSamplerCheckpoint));

    public Task<RunRecord?> GetRunAsync(string id, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {RunColumns} FROM runs WHERE id = @id", ReadRun, cancellationToken, ("@id", id));

    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(string tenant, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {RunColumns} FROM runs WHERE tenant = @tenant ORDER BY created_at DESC, id DESC",
            ReadRun, cancellationToken, ("@tenant", tenant));

    /// <summary>Throws <see cref="KeyNotFoundException"/> for an unknown run: an update that silently
    /// did nothing would lose a training step's bookkeeping.</summary>
    public async Task UpdateRunAsync(RunRecord run, CancellationToken cancellationToken = default)
    {
        int changed = await ExecuteAsync(
            """
            UPDATE runs SET step = @step, last_request_at = @last_request, last_checkpoint = @last_checkpoint,
                last_sampler_checkpoint = @last_sampler, user_metadata_json = @metadata
            WHERE id = @id
            """,
            cancellationToken,
            ("@step", run.Step), ("@last_request", Timestamp(run.LastRequestAt)), ("@last_checkpoint", run.LastCheckpoint),
            ("@last_sampler", run.LastSamplerCheckpoint), ("@metadata", run.UserMetadataJson), ("@id", run.Id));
        if (changed == 0)
            throw new KeyNotFoundException($"Cannot update run '{run.Id}': no run has that id.");
    }

    private RunRecord ReadRun(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), ReadTimestamp(reader, 3))
        {
            FullFineTuning = reader.GetBoolean(4),
            LoraConfigJson = ReadNullableString(reader, 5),
            UserMetadataJson = ReadNullableString(reader, 6),
            Step = reader.GetInt64(7),
            LastRequestAt = ReadNullableTimestamp(reader, 8),
            LastCheckpoint = ReadNullableString(reader, 9),
            LastSamplerCheckpoint = ReadNullableString(reader, 10),
        };
}
