using System.Reflection;
using Npgsql;

namespace Whetstone.Service.Cluster;

/// <summary>Creates the tables and the OrleansQuery rows that Orleans' ADO.NET membership and
/// grain storage providers need (OrleansPostgres.v1.sql, which says where that contract comes
/// from), in the connection's schema, before the silo starts. Idempotent and safe when several
/// processes start at once against a fresh database: one applies the script under an advisory
/// lock (per schema), the others wait for it and find the version recorded.</summary>
internal static class OrleansSchema
{
    public const int Version = 1;
    const string Script = "Whetstone.Service.Cluster.OrleansPostgres.v1.sql";

    public static async Task EnsureAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.whetstone_orleans_schema'))", cancellationToken);
        await ExecuteAsync(connection,
            "CREATE TABLE IF NOT EXISTS WhetstoneOrleansSchema (Version integer NOT NULL PRIMARY KEY, AppliedAt timestamptz NOT NULL DEFAULT now())",
            cancellationToken);
        await using (var applied = new NpgsqlCommand("SELECT COALESCE(max(Version), 0) FROM WhetstoneOrleansSchema", connection))
            if ((int)(await applied.ExecuteScalarAsync(cancellationToken))! >= Version)
            {
                await transaction.CommitAsync(cancellationToken);
                return;
            }
        await ExecuteAsync(connection, ReadScript(), cancellationToken);
        await ExecuteAsync(connection, $"INSERT INTO WhetstoneOrleansSchema (Version) VALUES ({Version})", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The schema script, for operators who prefer to apply it themselves.</summary>
    public static string ReadScript()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(Script)
            ?? throw new InvalidOperationException($"embedded resource {Script} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
