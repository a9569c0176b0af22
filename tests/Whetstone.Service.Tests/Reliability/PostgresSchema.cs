using Npgsql;

namespace Whetstone.Service.Tests.Reliability;

/// <summary>A throwaway schema in the test PostgreSQL (WHET_TEST_POSTGRES), so a test's server has a
/// metadata store of its own that outlives the server and is dropped after the test.</summary>
internal static class PostgresSchema
{
    public static async Task<string> CreateAsync(string server, string prefix)
    {
        var schema = prefix + Guid.NewGuid().ToString("N");
        await ExecuteAsync(server, $"CREATE SCHEMA {schema}");
        return schema;
    }

    public static string ConnectionString(string server, string schema) =>
        new NpgsqlConnectionStringBuilder(server) { SearchPath = schema }.ConnectionString;

    public static Task DropAsync(string server, string schema) => ExecuteAsync(server, $"DROP SCHEMA IF EXISTS {schema} CASCADE");

    static async Task ExecuteAsync(string server, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(server);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
