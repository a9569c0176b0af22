using Npgsql;

namespace Whetstone.Service.Cluster;

/// <summary>PostgreSQL membership and grain state go through Orleans' own ADO.NET providers, which
/// read their SQL from tables that Orleans' setup scripts create. The NuGet packages do not ship
/// those scripts, so Whetstone does not create the tables itself: it checks they are there and
/// otherwise refuses to start, naming the scripts to run.</summary>
internal static class OrleansTables
{
    public static async Task RequireAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT to_regclass('orleansquery') IS NOT NULL AND to_regclass('orleansmembershiptable') IS NOT NULL AND to_regclass('orleansstorage') IS NOT NULL");
        if (await command.ExecuteScalarAsync() is true) return;
        throw new InvalidOperationException(
            "--cluster with PostgreSQL needs Orleans' ADO.NET tables in that database: run PostgreSQL-Main.sql, PostgreSQL-Clustering.sql " +
            "and PostgreSQL-Persistence.sql from the Orleans repository (tag v10.4.2, src/AdoNet/) on it once, or use --cluster localhost on one machine");
    }
}
