using System.Data.Common;

namespace Whetstone.Service.Persistence;

// Checkpoint records, addressed by their whet:// path.
public abstract partial class SqlMetadataStore
{
    private const string CheckpointColumns =
        "path, run_id, tenant, kind, name, directory, created_at, published, expires_at, size_bytes";

    // ON CONFLICT ... DO UPDATE is the same in SQLite (3.24+) and PostgreSQL (9.5+).
    public Task UpsertCheckpointAsync(CheckpointRecord checkpoint, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            $"""
            INSERT INTO checkpoints ({CheckpointColumns})
            VALUES (@path, @run_id, @tenant, @kind, @name, @directory, @created, @published, @expires, @size)
            ON CONFLICT (path) DO UPDATE SET
                run_id = excluded.run_id, tenant = excluded.tenant, kind = excluded.kind, name = excluded.name,
                directory = excluded.directory, created_at = excluded.created_at, published = excluded.published,
                expires_at = excluded.expires_at, size_bytes = excluded.size_bytes
            """,
            cancellationToken,
            ("@path", checkpoint.Path), ("@run_id", checkpoint.RunId), ("@tenant", checkpoint.Tenant),
            ("@kind", checkpoint.Kind), ("@name", checkpoint.Name), ("@directory", checkpoint.Directory),
            ("@created", Timestamp(checkpoint.CreatedAt)), ("@published", checkpoint.Published),
            ("@expires", Timestamp(checkpoint.ExpiresAt)), ("@size", checkpoint.SizeBytes));

    public Task<CheckpointRecord?> GetCheckpointAsync(string path, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {CheckpointColumns} FROM checkpoints WHERE path = @path",
            ReadCheckpoint, cancellationToken, ("@path", path));

    public Task<IReadOnlyList<CheckpointRecord>> ListCheckpointsAsync(string runId, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {CheckpointColumns} FROM checkpoints WHERE run_id = @run_id ORDER BY created_at, path",
            ReadCheckpoint, cancellationToken, ("@run_id", runId));

    public async Task<bool> DeleteCheckpointAsync(string path, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("DELETE FROM checkpoints WHERE path = @path", cancellationToken, ("@path", path)) > 0;

    public async Task<bool> SetCheckpointPublishedAsync(string path, bool published, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE checkpoints SET published = @published WHERE path = @path",
            cancellationToken, ("@published", published), ("@path", path)) > 0;

    public async Task<bool> SetCheckpointExpiryAsync(string path, DateTimeOffset? expiresAt, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE checkpoints SET expires_at = @expires WHERE path = @path",
            cancellationToken, ("@expires", Timestamp(expiresAt)), ("@path", path)) > 0;

    /// <summary>Checkpoints whose expiry is at or before <paramref name="now"/>, soonest expired first.</summary>
    public Task<IReadOnlyList<CheckpointRecord>> ListExpiredCheckpointsAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {CheckpointColumns} FROM checkpoints WHERE expires_at <= @now ORDER BY expires_at, path",
            ReadCheckpoint, cancellationToken, ("@now", Timestamp(now)));

    private CheckpointRecord ReadCheckpoint(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.GetString(5), ReadTimestamp(reader, 6))
        {
            Published = reader.GetBoolean(7),
            ExpiresAt = ReadNullableTimestamp(reader, 8),
            SizeBytes = reader.GetInt64(9),
        };
}
