using Npgsql;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>How many rows the metadata store writes per training step (forward_backward +
/// optim_step), counted by PostgreSQL itself (pg_stat_user_tables): the figure docs/SCALING.md
/// sizes the shared database with. Two runs, of 2 and of 12 steps, each in its own schema; the
/// difference over 10 steps is the marginal cost of a step, creation and start-up excluded.</summary>
[Collection(ClusterCollection.Name)]
public class MetadataWritesPerStepTests
{
    static readonly string? Postgres = Environment.GetEnvironmentVariable("WHET_TEST_POSTGRES");

    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task ATrainingStepWritesAFewRowsToTheMetadataStore()
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(Postgres) && Environment.GetEnvironmentVariable("WHET_SKIP_POSTGRES") == "1", "WHET_SKIP_POSTGRES=1");
        Assert.False(string.IsNullOrWhiteSpace(Postgres), "needs WHET_TEST_POSTGRES (scripts/test.sh starts a throwaway PostgreSQL) or WHET_SKIP_POSTGRES=1");
        var few = await WritesAsync(2);
        var many = await WritesAsync(12);
        double perStep = (many.Values.Sum() - few.Values.Sum()) / 10.0;
        foreach (var table in many.Keys.Order())
            TestContext.Current.TestOutputHelper?.WriteLine($"{table}: {(many[table] - few.GetValueOrDefault(table)) / 10.0} rows per step");
        TestContext.Current.TestOutputHelper?.WriteLine($"all tables: {perStep} rows per step");
        // A step touches its two request rows, usage, the run record and its metrics: a handful
        // of rows, not one per token or per parameter.
        Assert.InRange(perStep, 4, 24);
    }

    /// <summary>Rows inserted, updated and deleted per table by a run of <paramref name="steps"/> steps.</summary>
    static async Task<Dictionary<string, long>> WritesAsync(int steps)
    {
        string schema = "whet_writes_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync($"CREATE SCHEMA {schema}");
        try
        {
            var options = TestServers.Options(TestServers.NewDataDirectory()) with
            {
                Database = new NpgsqlConnectionStringBuilder(Postgres) { SearchPath = schema }.ConnectionString,
                LoopTickInterval = TimeSpan.Zero,
            };
            await using (var core = await ServiceCore.CreateAsync(options))
            {
                using var client = ServiceClient.Connect(await core.InMemoryClientAsync("counting"));
                var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 3);
                for (int s = 0; s < steps; s++)
                {
                    var fb = await run.ForwardBackwardAsync([Datums.ForCrossEntropy([5, 9, 13, 17, 21, 25])], "cross_entropy");
                    var optim = await run.OptimStepAsync(new AdamParams { LearningRate = 1e-3 });
                    await fb.ResultAsync();
                    await optim.ResultAsync();
                }
                await Task.Delay(500);   // the writes nobody waits for (usage, last request time)
            }   // closing the store's connections ends their backends, which flushes their statistics
            await Task.Delay(1500);
            await using var dataSource = NpgsqlDataSource.Create(Postgres!);
            await using var command = dataSource.CreateCommand(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE schemaname = $1");
            command.Parameters.AddWithValue(schema);
            var counts = new Dictionary<string, long>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt64(1);
            return counts;
        }
        finally
        {
            await ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    static async Task ExecuteAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(Postgres!);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
