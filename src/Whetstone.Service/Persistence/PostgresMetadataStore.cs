using System.Data.Common;
using Npgsql;

namespace Whetstone.Service.Persistence;

/// <summary>The metadata store on PostgreSQL, for deployments where several servers share one
/// database. Timestamps are timestamptz (microseconds, UTC).</summary>
public sealed class PostgresMetadataStore : SqlMetadataStore
{
    private readonly NpgsqlDataSource _dataSource;

    /// <param name="connectionString">Npgsql keyword form, e.g.
    /// <c>Host=db;Port=5432;Username=whet;Password=...;Database=whetstone</c>. Add
    /// <c>Search Path=NAME</c> to keep the tables in a schema other than <c>public</c>.</param>
    public PostgresMetadataStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    private protected override string TimestampColumnType => "TIMESTAMPTZ";

    private protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    // Npgsql writes a DateTimeOffset to timestamptz only when its offset is zero.
    private protected override object ToDbTimestamp(DateTimeOffset value) => value.ToUniversalTime();

    private protected override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) =>
        reader.GetFieldValue<DateTimeOffset>(ordinal);

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
