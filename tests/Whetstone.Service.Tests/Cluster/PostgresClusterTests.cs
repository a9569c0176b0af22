using System.Net;
using System.Net.Sockets;
using Npgsql;
using Orleans;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Cluster;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>`whet serve --cluster &lt;PostgreSQL&gt;` for real: Orleans' ADO.NET membership and grain
/// storage on a throwaway PostgreSQL (WHET_TEST_POSTGRES), each test in its own schema, with the
/// tables and queries <see cref="OrleansSchema"/> creates.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PostgresClusterTests : IAsyncDisposable
{
    static readonly string? Postgres = Environment.GetEnvironmentVariable("WHET_TEST_POSTGRES");
    readonly string _schema = "whet_orleans_" + Guid.NewGuid().ToString("N");

    string Connection => new NpgsqlConnectionStringBuilder(Postgres) { SearchPath = _schema }.ConnectionString;

    async Task RequirePostgresAsync()
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(Postgres) && Environment.GetEnvironmentVariable("WHET_SKIP_POSTGRES") == "1", "WHET_SKIP_POSTGRES=1");
        Assert.False(string.IsNullOrWhiteSpace(Postgres), "needs WHET_TEST_POSTGRES (scripts/test.sh starts a throwaway PostgreSQL) or WHET_SKIP_POSTGRES=1");
        await ScalarAsync(Postgres!, $"CREATE SCHEMA {_schema}");
    }

    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task ProcessesStartingTogetherCreateTheSchemaOnce()
    {
        await RequirePostgresAsync();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => OrleansSchema.EnsureAsync(Connection)));
        await OrleansSchema.EnsureAsync(Connection);   // and again later: nothing to do

        Assert.Equal(1L, await ScalarAsync(Connection, "SELECT count(*) FROM WhetstoneOrleansSchema"));
        var keys = new List<string>();
        await using (var dataSource = NpgsqlDataSource.Create(Connection))
        await using (var command = dataSource.CreateCommand("SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) keys.Add(reader.GetString(0));
        // Every key the 10.x clustering and persistence providers load (DbStoredQueries, AdoNetGrainStorage).
        Assert.Equal(
            ["CleanupDefunctSiloEntriesKey", "ClearStorageKey", "DeleteMembershipTableEntriesKey", "DeleteStorageKey", "GatewaysQueryKey",
             "InsertMembershipKey", "InsertMembershipVersionKey", "MembershipReadAllKey", "MembershipReadRowKey", "ReadFromStorageKey",
             "UpdateIAmAlivetimeKey", "UpdateMembershipKey", "WriteToStorageKey"],
            keys);
    }

    /// <summary>A worker-and-gateway silo joins through the PostgreSQL membership table, reports
    /// its model to the directory, and stops; a gateway started afterwards (a new silo on the
    /// same database) finds the directory's state — which models the first silo hosted — in
    /// PostgreSQL grain storage, and the first silo's membership row marked dead.</summary>
    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task SilosJoinThroughPostgresAndGrainStateOutlivesTheSilo()
    {
        await RequirePostgresAsync();
        var data = TestServers.NewDataDirectory();
        string firstSilo;
        await using (var both = await ClusterServer.StartAsync(TestServers.Options(data), Settings(ClusterRole.Both)))
        {
            var directory = both.Grains.GetGrain<IBaseModelDirectoryGrain>(0);
            await WaitUntilAsync(async () => (await directory.Hosts(TestServers.ModelName)).Length == 1);
            firstSilo = (await directory.Hosts(TestServers.ModelName))[0].Worker.ToParsableString();

            Assert.Equal(3L, await ScalarAsync(Connection, "SELECT Status FROM OrleansMembershipTable"));   // 3: Active
            Assert.Equal(1L, await ScalarAsync(Connection, "SELECT count(*) FROM OrleansStorage WHERE PayloadBinary IS NOT NULL"));
        }

        await using var gateway = await ClusterServer.StartAsync(TestServers.Options(data), Settings(ClusterRole.Gateway));
        var known = await gateway.Grains.GetGrain<IBaseModelDirectoryGrain>(0).Known();
        Assert.Equal([TestServers.ModelName], known[firstSilo]);
        // The first silo left gracefully (6: Dead); the gateway is the one active member.
        Assert.Equal(2L, await ScalarAsync(Connection, "SELECT count(*) FROM OrleansMembershipTable"));
        Assert.Equal(6L, await ScalarAsync(Connection, "SELECT min(Status) FILTER (WHERE Status <> 3) FROM OrleansMembershipTable"));
        Assert.Equal(1L, await ScalarAsync(Connection, "SELECT count(*) FILTER (WHERE Status = 3) FROM OrleansMembershipTable"));
    }

    /// <summary>Training through a run grain on a silo whose membership is in PostgreSQL, the
    /// silo being gateway and worker at once (the grain is in the process that got the call).
    /// Issue #19: this hung in 5 of 6 runs — the call's future in the shared core was replaced by
    /// the gateway's follower of it, which waited for itself (see <see cref="BothRoleTraining"/>).</summary>
    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task ARunTrainsOnASiloWithPostgresMembership()
    {
        await RequirePostgresAsync();
        await using var both = await ClusterServer.StartAsync(TestServers.Options(TestServers.NewDataDirectory()), Settings(ClusterRole.Both));
        await BothRoleTraining.TrainsAsync(both);
    }

    ClusterSettings Settings(ClusterRole role) => new()
    {
        Membership = Connection,
        Role = role,
        SiloPort = FreePort(),
        GatewayPort = FreePort(),
        ClusterId = _schema,
        ReportInterval = TimeSpan.FromMilliseconds(200),
    };

    static Task WaitUntilAsync(Func<Task<bool>> condition) =>
        Bounded.WaitUntilAsync(condition, TimeSpan.FromSeconds(60), "the silo's report to the directory");

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static async Task<long> ScalarAsync(string connection, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connection);
        await using var command = dataSource.CreateCommand(sql);
        return await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToInt64(value) : -1;
    }

    public async ValueTask DisposeAsync()
    {
        if (!string.IsNullOrWhiteSpace(Postgres)) await ScalarAsync(Postgres, $"DROP SCHEMA IF EXISTS {_schema} CASCADE");
    }
}
