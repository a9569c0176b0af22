using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Service.Tests.Memory;
using Whetstone.Service.Tests.OpenAi;

namespace Whetstone.Service.Tests.Reliability;

/// <summary>The whole server stopped and started again on the same data directory and metadata
/// store (SQLite under the data directory, or a PostgreSQL schema of its own): runs, checkpoints,
/// deployments, the served-completion log, feedback and memories come back exactly as they were,
/// and each goes on working.</summary>
public class WholeServerRestartTests
{
    static readonly string? Postgres = Environment.GetEnvironmentVariable("WHET_TEST_POSTGRES");

    // Times to the microsecond: a live server reports .NET's 100 ns ticks, the store keeps microseconds,
    // and the serializer drops trailing zeros (".59176" is ".591760"), so fractions are padded to six digits.
    static string Json<T>(T value) => System.Text.RegularExpressions.Regex.Replace(JsonSerializer.Serialize(value, ProtocolJson.Options),
        @"(T\d\d:\d\d:\d\d)(?:\.(\d+))?", m => $"{m.Groups[1].Value}.{(m.Groups[2].Value + "000000")[..6]}");

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task RunsDeploymentsFeedbackAndMemoriesSurviveARestartIntact(string store)
    {
        string? schema = null;
        if (store == "postgres")
        {
            Assert.SkipWhen(string.IsNullOrWhiteSpace(Postgres) && Environment.GetEnvironmentVariable("WHET_SKIP_POSTGRES") == "1", "WHET_SKIP_POSTGRES=1");
            Assert.False(string.IsNullOrWhiteSpace(Postgres), "needs WHET_TEST_POSTGRES (scripts/test.sh starts a throwaway PostgreSQL) or WHET_SKIP_POSTGRES=1");
            schema = await PostgresSchema.CreateAsync(Postgres!, "whet_restart_");
        }
        try
        {
            await RestartAndCompareAsync(schema is null ? null : PostgresSchema.ConnectionString(Postgres!, schema));
        }
        finally
        {
            if (schema is not null) await PostgresSchema.DropAsync(Postgres!, schema);
        }
    }

    /// <summary>A server on this data directory and metadata store (null: SQLite under the directory).</summary>
    static async Task<TestHost> StartAsync(string data, string? database) =>
        new(await WhetstoneServer.StartAsync(TestServers.Options(data) with { Database = database }), owned: true);

    static async Task RestartAndCompareAsync(string? database)
    {
        var data = TestServers.NewDataDirectory();
        string key, runId, deploymentJson, feedbackJson, memoryId, memoryJson, runJson, checkpointsJson, completionId;
        await using (var first = await StartAsync(data, database))
        {
            key = await TestServers.KeyAsync(first, "rosa");
            using var client = new OpenAiTestClient(first, key);
            var run = await client.Sdk.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 8);
            runId = run.RunId;
            await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([5, 6, 7, 8, 9, 10])], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync();
            await (await run.SaveStateAsync("s1")).ResultAsync();
            var sampler = (await (await run.SaveWeightsForSamplerAsync("w1")).ResultAsync()).Path;
            await client.Sdk.Deployments.CreateAsync("rosa-bot", sampler);
            var served = await client.PostAsync(Routes.OpenAiCompletions, new { model = "rosa-bot@latest", prompt = new[] { 11, 12, 13 }, max_tokens = 5, seed = 3 });
            completionId = (string)served["id"]!;
            await client.Sdk.Feedback.ThumbsUpAsync(completionId, comment: "kept");
            var chat = new MemoryChat(first, client.Http);
            (memoryId, _) = await chat.TurnAsync(null, MemoryChat.SmallTalk(1));

            runJson = Json((await client.Sdk.CreateRestClient().GetTrainingRunAsync(runId)) with { Tokenizer = null });
            checkpointsJson = Json((await client.Sdk.CreateRestClient().ListCheckpointsAsync(runId)).Checkpoints);
            deploymentJson = Json(await client.Sdk.Deployments.GetAsync("rosa-bot"));
            feedbackJson = Json(await client.Sdk.Feedback.ListAsync());
            memoryJson = Json(await chat.GetAsync(memoryId));
        }

        await using var second = await StartAsync(data, database);
        using var again = new OpenAiTestClient(second, key);   // keys survive too
        // The tokenizer block is the base model's, shown once the run is loaded on a worker (its first
        // call after the restart), not stored with the run: compared without it.
        Assert.Equal(runJson, Json((await again.Sdk.CreateRestClient().GetTrainingRunAsync(runId)) with { Tokenizer = null }));
        Assert.Equal(checkpointsJson, Json((await again.Sdk.CreateRestClient().ListCheckpointsAsync(runId)).Checkpoints));
        Assert.Equal(deploymentJson, Json(await again.Sdk.Deployments.GetAsync("rosa-bot")));
        Assert.Equal(feedbackJson, Json(await again.Sdk.Feedback.ListAsync()));
        var chatAgain = new MemoryChat(second, again.Http);
        Assert.Equal(memoryJson, Json(await chatAgain.GetAsync(memoryId)));
        Assert.NotNull(await again.LoggedAsync(completionId));

        // And each goes on: the deployment serves, the memory takes its next turn, the run trains on.
        var served2 = await again.PostAsync(Routes.OpenAiCompletions, new { model = "rosa-bot@latest", prompt = new[] { 11, 12, 13 }, max_tokens = 5, seed = 3 });
        Assert.Equal(OpenAiTestClient.Tokens(await again.LoggedAsync(completionId)), OpenAiTestClient.Tokens(await again.LoggedAsync((string)served2["id"]!)));
        await chatAgain.TurnAsync(memoryId, MemoryChat.SmallTalk(2));
        Assert.Equal(2, (await chatAgain.GetAsync(memoryId)).Turn);
        var resumed = await again.Sdk.GetTrainingClientAsync(runId);
        await (await resumed.ForwardBackwardAsync([Datums.ForCrossEntropy([5, 6, 7, 8, 9, 10])], "cross_entropy")).ResultAsync();
        await (await resumed.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync();
        Assert.Equal(2, (await resumed.GetInfoAsync()).Step);
    }
}
