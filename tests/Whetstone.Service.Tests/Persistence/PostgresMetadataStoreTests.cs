using Npgsql;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Tests.Persistence;

/// <summary>The contract on a real PostgreSQL server (WHET_TEST_POSTGRES), each test in its own
/// schema so parallel tests never see each other's rows.</summary>
public sealed class PostgresMetadataStoreTests : MetadataStoreContract
{
    private static readonly string? ServerConnectionString = Environment.GetEnvironmentVariable("WHET_TEST_POSTGRES");

    // Generated here, never from input: safe to put in DDL, where identifiers cannot be parameters.
    private readonly string _schema = "whet_test_" + Guid.NewGuid().ToString("N");

    protected override bool BackendSkipped =>
        string.IsNullOrWhiteSpace(ServerConnectionString) && Environment.GetEnvironmentVariable("WHET_SKIP_POSTGRES") == "1";

    protected override Task CreateDatabaseAsync() => ExecuteOnServerAsync($"CREATE SCHEMA {_schema}");

    protected override Task DropDatabaseAsync() => ExecuteOnServerAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");

    protected override IMetadataStore NewStore() =>
        new PostgresMetadataStore(new NpgsqlConnectionStringBuilder(ServerConnectionString) { SearchPath = _schema }.ConnectionString);

    private static async Task ExecuteOnServerAsync(string sql)
    {
        if (string.IsNullOrWhiteSpace(ServerConnectionString))
            throw new InvalidOperationException(
                "PostgreSQL tests need a server: run `eval \"$(bash scripts/start-postgres.sh)\"` to start a throwaway one " +
                "(it sets WHET_TEST_POSTGRES), or set WHET_SKIP_POSTGRES=1 to skip these tests.");
        await using var dataSource = NpgsqlDataSource.Create(ServerConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
