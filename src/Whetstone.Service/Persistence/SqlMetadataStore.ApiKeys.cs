using System.Data.Common;

namespace Whetstone.Service.Persistence;

// API keys: looked up by the SHA-256 of the secret; revoking keeps the row for the audit trail.
public abstract partial class SqlMetadataStore
{
    private const string ApiKeyColumns = "id, tenant, name, key_hash, is_admin, created_at, revoked_at";

    public Task InsertApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            $"INSERT INTO api_keys ({ApiKeyColumns}) VALUES (@id, @tenant, @name, @hash, @admin, @created, @revoked)",
            cancellationToken,
            ("@id", key.Id), ("@tenant", key.Tenant), ("@name", key.Name), ("@hash", key.KeyHash),
            ("@admin", key.IsAdmin), ("@created", Timestamp(key.CreatedAt)), ("@revoked", Timestamp(key.RevokedAt)));

    public Task<ApiKeyRecord?> FindActiveApiKeyAsync(string keyHash, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {ApiKeyColumns} FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL",
            ReadApiKey, cancellationToken, ("@hash", keyHash));

    public Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {ApiKeyColumns} FROM api_keys ORDER BY created_at, id", ReadApiKey, cancellationToken);

    public async Task<bool> RevokeApiKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE api_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL",
            cancellationToken, ("@at", Timestamp(at)), ("@id", id)) > 0;

    /// <summary>Only active admin keys count: revoking the last one lets the server bootstrap a new one.</summary>
    public async Task<bool> AnyAdminKeyAsync(CancellationToken cancellationToken = default) =>
        (await QueryAsync("SELECT id FROM api_keys WHERE is_admin = @admin AND revoked_at IS NULL LIMIT 1",
            reader => reader.GetString(0), cancellationToken, ("@admin", true))).Count > 0;

    private ApiKeyRecord ReadApiKey(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4),
            ReadTimestamp(reader, 5))
        {
            RevokedAt = ReadNullableTimestamp(reader, 6),
        };
}
