using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cli.Tests;

/// <summary>The whole cluster restarted (issue #19): a gateway and a worker with PostgreSQL
/// membership, grain state and metadata, stopped with SIGTERM and started again as new processes
/// on the same data directory and schema. The run, its checkpoints, the deployment, the
/// served-completion log, the feedback and the memory come back exactly as they were, and each
/// goes on working: the deployment serves the same greedy tokens, the memory takes its next turn,
/// the run trains on from its saved state.</summary>
public sealed class ClusterRestartTests : IAsyncDisposable
{
    ClusterProcesses? _cluster;
    static readonly string Model = Path.GetFileName(TinyModel.ModelDirectory);
    static readonly Datum Example = Datums.ForCrossEntropy([5, 6, 7, 8, 9, 10]);

    // Times to the microsecond: a live process reports .NET's 100 ns ticks, the store keeps
    // microseconds, and the serializer drops trailing zeros, so fractions are padded to six digits.
    static string Json<T>(T value) => Regex.Replace(JsonSerializer.Serialize(value, ProtocolJson.Options),
        @"(T\d\d:\d\d:\d\d)(?:\.(\d+))?", m => $"{m.Groups[1].Value}.{(m.Groups[2].Value + "000000")[..6]}");

    // Bounded: xunit fails it and disposes the class, which kills the processes.
    [Fact(Timeout = 5 * 60 * 1000)]
    public async Task RunsDeploymentsFeedbackAndMemoriesSurviveARestartOfTheWholeCluster()
    {
        var processes = _cluster = await ClusterProcesses.CreateAsync();
        int http = ClusterProcesses.FreePort();
        await processes.StartGatewayAndWorkerAsync(processes.Database, http);

        string runId, runJson, checkpointsJson, deploymentJson, feedbackJson, memoryId, memoryJson, completionId;
        int[] servedTokens;
        using (var http1 = Http(http))
        {
            using var client = ServiceClient.Connect(http1);
            var run = await ClusterProcesses.CreateWhenWorkerReportedAsync(client, seed: 8);
            runId = run.RunId;
            await (await run.ForwardBackwardAsync([Example], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync();
            await (await run.SaveStateAsync("s1")).ResultAsync();
            var sampler = (await (await run.SaveWeightsForSamplerAsync("w1")).ResultAsync()).Path;
            await client.Deployments.CreateAsync("rosa-bot", sampler);
            completionId = (string)(await PostAsync(http1, Routes.OpenAiCompletions, Completion))["id"]!;
            servedTokens = await LoggedTokensAsync(http1, completionId);
            Assert.Equal(5, servedTokens.Length);
            await client.Feedback.ThumbsUpAsync(completionId, comment: "kept");
            memoryId = await MemoryTurnAsync(http1, null, "I had tea at 1 o'clock.", expectedTurn: 1);

            runJson = Json((await client.CreateRestClient().GetTrainingRunAsync(runId)) with { Tokenizer = null });
            checkpointsJson = Json((await client.CreateRestClient().ListCheckpointsAsync(runId)).Checkpoints);
            deploymentJson = Json(await client.Deployments.GetAsync("rosa-bot"));
            feedbackJson = Json(await client.Feedback.ListAsync());
            memoryJson = Json(await GetMemoryAsync(http1, memoryId));
        }

        await processes.StopAllAsync();
        http = ClusterProcesses.FreePort();
        await processes.StartGatewayAndWorkerAsync(processes.Database, http);

        using var http2 = Http(http);
        using var again = ServiceClient.Connect(http2);
        // The tokenizer block is the base model's, shown once the run is loaded on a worker, not stored with the run.
        Assert.Equal(runJson, Json((await again.CreateRestClient().GetTrainingRunAsync(runId)) with { Tokenizer = null }));
        Assert.Equal(checkpointsJson, Json((await again.CreateRestClient().ListCheckpointsAsync(runId)).Checkpoints));
        Assert.Equal(deploymentJson, Json(await again.Deployments.GetAsync("rosa-bot")));
        Assert.Equal(feedbackJson, Json(await again.Feedback.ListAsync()));
        Assert.Equal(memoryJson, Json(await GetMemoryAsync(http2, memoryId)));
        Assert.Equal(servedTokens, await LoggedTokensAsync(http2, completionId));

        // Each goes on: the deployment serves the same greedy tokens (once the new worker has
        // reported the base model), the memory takes its second turn, the run trains on from step 1.
        var servedAgain = await PostWhenServedAsync(http2, Routes.OpenAiCompletions, Completion);
        Assert.Equal(servedTokens, await LoggedTokensAsync(http2, (string)servedAgain["id"]!));
        await MemoryTurnAsync(http2, memoryId, "Random chat number 2, nothing much.", expectedTurn: 2);
        var resumed = await again.GetTrainingClientAsync(runId);
        await (await resumed.ForwardBackwardAsync([Example], "cross_entropy")).ResultAsync();
        await (await resumed.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync();
        Assert.Equal(2, (await resumed.GetInfoAsync()).Step);
    }

    static readonly object Completion = new { model = "rosa-bot@latest", prompt = new[] { 11, 12, 13 }, max_tokens = 5, temperature = 0, seed = 3 };

    static HttpClient Http(int port)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ClusterProcesses.AdminKey);
        return http;
    }

    static async Task<(int Status, string Text)> SendAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    static async Task<JsonObject> PostAsync(HttpClient http, string path, object body)
    {
        var (status, text) = await SendAsync(http, path, body);
        Assert.True(status == 200, $"{path}: {status}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Retries 4xx/5xx answers for up to a minute: a just-started worker reports what it can serve within seconds.</summary>
    static async Task<JsonObject> PostWhenServedAsync(HttpClient http, string path, object body)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var (status, text) = await SendAsync(http, path, body);
            if (status == 200) return JsonNode.Parse(text)!.AsObject();
            Assert.True(DateTime.UtcNow < deadline, $"{path} still answers {status} a minute after the restart: {text}");
            await Task.Delay(500);
        }
    }

    static async Task<int[]> LoggedTokensAsync(HttpClient http, string id)
    {
        var list = JsonNode.Parse(await http.GetStringAsync(Routes.CompletionLog + "?limit=1000"))!["data"]!.AsArray();
        var logged = list.SingleOrDefault(e => (string)e!["id"]! == id);
        Assert.True(logged is not null, $"completion {id} is not in the served-completion log");
        return logged["choices"]![0]!["tokens"]!.AsArray().Select(t => (int)t!).ToArray();
    }

    static async Task<MemoryInfo> GetMemoryAsync(HttpClient http, string id) =>
        (await http.GetFromJsonAsync<MemoryInfo>(Routes.Memory(id), ProtocolJson.Options))!;

    /// <summary>One chat turn with a memory; waits (bounded) for the turn's background update.</summary>
    static async Task<string> MemoryTurnAsync(HttpClient http, string? memoryId, string user, int expectedTurn)
    {
        var body = await PostWhenServedAsync(http, Routes.OpenAiChatCompletions, new
        {
            model = Model, messages = new[] { new { role = "user", content = user } }, max_tokens = 6, temperature = 0, seed = 5,
            memory = new Dictionary<string, object?> { ["id"] = memoryId, ["budget_tokens"] = 96 },
        });
        string id = (string)body["memory"]!["id"]!;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await GetMemoryAsync(http, id)).Turn != expectedTurn)
        {
            Assert.True(DateTime.UtcNow < deadline, $"memory {id} did not reach turn {expectedTurn} within a minute");
            await Task.Delay(200);
        }
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
