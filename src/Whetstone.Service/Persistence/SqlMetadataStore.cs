using System.Data.Common;

namespace Whetstone.Service.Persistence;

/// <summary>The metadata store over ADO.NET: all SQL lives here (split by table across the
/// <c>SqlMetadataStore.*.cs</c> files) and is the same for SQLite and PostgreSQL. Subclasses supply
/// only connections and the timestamp representation. Every call opens its own (pooled)
/// connection, so methods are safe to call concurrently.</summary>
public abstract partial class SqlMetadataStore : IMetadataStore
{
    // Only this assembly may derive: the SQL below assumes one of the two known dialects.
    private protected SqlMetadataStore() { }

    /// <summary>SQL column type for timestamps (used in the schema).</summary>
    private protected abstract string TimestampColumnType { get; }

    private protected abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>The parameter value stored for a timestamp; must order the same way as the instant.</summary>
    private protected abstract object ToDbTimestamp(DateTimeOffset value);

    private protected abstract DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal);

    /// <summary>Runs before the migrations (e.g. database-wide settings, directories).</summary>
    private protected virtual Task PrepareDatabaseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract ValueTask DisposeAsync();

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await PrepareDatabaseAsync(cancellationToken);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, null,
            $"CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at {TimestampColumnType} NOT NULL)",
            cancellationToken);
        long current = await ReadSchemaVersionAsync(connection, cancellationToken);
        foreach (var migration in MetadataSchema.Migrations)
        {
            if (migration.Version <= current) continue;
            // One transaction per migration, so a failure leaves the version at the last complete one.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var statement in migration.Statements)
                await ExecuteAsync(connection, transaction, statement.Replace("{timestamp}", TimestampColumnType), cancellationToken);
            // ON CONFLICT: a second server initializing the same database at the same moment is not an error.
            await ExecuteAsync(connection, transaction,
                "INSERT INTO schema_version (version, applied_at) VALUES (@version, @at) ON CONFLICT (version) DO NOTHING",
                cancellationToken, ("@version", migration.Version), ("@at", Timestamp(DateTimeOffset.UtcNow)));
            await transaction.CommitAsync(cancellationToken);
        }
    }

    private static async Task<long> ReadSchemaVersionAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, null, "SELECT MAX(version) FROM schema_version", []);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private protected object Timestamp(DateTimeOffset value) => ToDbTimestamp(value);

    private protected object? Timestamp(DateTimeOffset? value) => value is { } v ? ToDbTimestamp(v) : null;

    private protected DateTimeOffset? ReadNullableTimestamp(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : ReadTimestamp(reader, ordinal);

    private protected static string? ReadNullableString(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Runs one statement on its own connection; returns the number of rows changed.</summary>
    private protected async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ExecuteAsync(connection, null, sql, cancellationToken, parameters);
    }

    private protected static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = CreateCommand(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs several statements in one transaction on one connection.</summary>
    private protected async Task ExecuteInTransactionAsync(CancellationToken cancellationToken,
        params (string Sql, (string Name, object? Value)[] Parameters)[] statements)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var (sql, parameters) in statements)
            await ExecuteAsync(connection, transaction, sql, cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
    }

    private protected async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> readRow,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = CreateCommand(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(readRow(reader));
        return rows;
    }

    private protected async Task<T?> QuerySingleAsync<T>(string sql, Func<DbDataReader, T> readRow,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) where T : class
    {
        var rows = await QueryAsync(sql, readRow, cancellationToken, parameters);
        return rows.Count == 0 ? null : rows[0];
    }

    private static DbCommand CreateCommand(DbConnection connection, DbTransaction? transaction, string sql,
        (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
