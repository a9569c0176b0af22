using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Whetstone.Service.Persistence;

/// <summary>The default metadata store: one SQLite file, in WAL mode so readers never block the
/// writer, with a busy timeout so concurrent writers wait for each other instead of failing with
/// SQLITE_BUSY.</summary>
public sealed class SqliteMetadataStore : SqlMetadataStore
{
    private const int BusyTimeoutMilliseconds = 30_000;

    private readonly string _connectionString;

    /// <param name="connectionStringOrPath">A connection string (<c>Data Source=/data/whetstone.db</c>)
    /// or a file path; anything containing '=' is read as a connection string. The file and its
    /// directory are created by <see cref="SqlMetadataStore.InitializeAsync"/>.</param>
    public SqliteMetadataStore(string connectionStringOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionStringOrPath);
        var builder = connectionStringOrPath.Contains('=')
            ? new SqliteConnectionStringBuilder(connectionStringOrPath)
            : new SqliteConnectionStringBuilder { DataSource = connectionStringOrPath };
        if (string.IsNullOrWhiteSpace(builder.DataSource) || builder.DataSource == ":memory:" || builder.Mode == SqliteOpenMode.Memory)
            // Each call opens its own connection, and every in-memory connection is a new empty database.
            throw new ArgumentException(
                $"SQLite metadata store needs a database file, got '{connectionStringOrPath}'.", nameof(connectionStringOrPath));
        builder.Pooling = true;
        DatabasePath = Path.GetFullPath(builder.DataSource);
        builder.DataSource = DatabasePath;
        _connectionString = builder.ToString();
    }

    /// <summary>Absolute path of the database file.</summary>
    public string DatabasePath { get; }

    private protected override string TimestampColumnType => "INTEGER";

    private protected override async Task PrepareDatabaseAsync(CancellationToken cancellationToken)
    {
        if (Path.GetDirectoryName(DatabasePath) is { Length: > 0 } directory)
            Directory.CreateDirectory(directory);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // WAL is a property of the file, so setting it once here holds for every later connection.
        command.CommandText = "PRAGMA journal_mode = WAL";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString) { DefaultTimeout = BusyTimeoutMilliseconds / 1000 };
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            // busy_timeout is per connection: SQLite itself then waits for the write lock (also at
            // BEGIN IMMEDIATE) instead of returning SQLITE_BUSY to a concurrent writer.
            command.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMilliseconds}";
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    // Integer microseconds since the Unix epoch (UTC): exact to the microsecond like PostgreSQL's
    // timestamptz, and integer comparison in SQL orders instants correctly.
    private protected override object ToDbTimestamp(DateTimeOffset value) =>
        (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    private protected override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + reader.GetInt64(ordinal) * TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);

    /// <summary>Closes the pooled connections so the file can be moved or deleted.</summary>
    public override ValueTask DisposeAsync()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }
}
