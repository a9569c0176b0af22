using System.Net;
using System.Text;
using System.Text.Json;
using Whetstone.Cli.Tests.Reliability;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cli.Tests;

/// <summary>Plain `whet serve` (issue #19): a one-silo localhost Orleans cluster in role both, on a
/// free silo port. Two of them on one machine are two clusters of one silo each, never one of two;
/// one killed and started again on its data directory keeps its run (restored from its saved
/// state) and its sampling session; `--cluster none` starts no silo.</summary>
public sealed class DefaultServeClusterTests
{
    static readonly string Model = Path.GetFileName(TinyModel.ModelDirectory);
    static readonly Datum Example = Datums.ForCrossEntropy([5, 6, 7, 8, 9, 10]);
    static readonly SampleRequest Greedy = new(ModelInput.FromTokens([11, 12, 13, 14]), new SamplingParams { MaxTokens = 6, Temperature = 0 });

    [Fact(Timeout = 6 * 60 * 1000)]
    public async Task TwoDefaultServersAreTwoOneSiloClustersAndARestartKeepsTheRunAndTheSamplingSession()
    {
        using var dataA = new TempDirectory();
        using var dataB = new TempDirectory();
        var startingB = ServeProcess.StartAsync(TinyModel.ModelDirectory, dataB.Path);
        ServeProcess? a = null;
        try
        {
            a = await ServeProcess.StartAsync(TinyModel.ModelDirectory, dataA.Path);
            using var b = await startingB;
            using var clientA = ServiceClient.Connect(a.Url, ServeProcess.AdminKey);
            using var clientB = ServiceClient.Connect(b.Url, ServeProcess.AdminKey);
            var clusterA = AssertOneSilo(await clientA.GetClusterInfoAsync());
            var clusterB = AssertOneSilo(await clientB.GetClusterInfoAsync());
            Assert.NotEqual(clusterA.Silo, clusterB.Silo);

            var run = await clientA.CreateLoraTrainingClientAsync(Model, rank: 4, seed: 8);
            await (await run.ForwardBackwardAsync([Example], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync();
            await (await run.SaveStateAsync("s1")).ResultAsync();
            var weights = (await (await run.SaveWeightsForSamplerAsync("w1")).ResultAsync()).Path;
            var sampler = await clientA.CreateSamplingClientAsync(modelPath: weights);
            var tokens = (await (await sampler.SampleAsync(Greedy.Prompt, 1, Greedy.SamplingParams)).ResultAsync()).Sequences[0].Tokens;
            Assert.Equal(6, tokens.Count);
            // The other server is another cluster over another store: it knows neither.
            await AssertNotFoundAsync(() => clientB.GetTrainingClientAsync(run.RunId));

            a.Kill();
            a.Dispose();
            a = await ServeProcess.StartAsync(TinyModel.ModelDirectory, dataA.Path);
            using var again = ServiceClient.Connect(a.Url, ServeProcess.AdminKey);
            Assert.NotEqual(clusterA.Silo, AssertOneSilo(await again.GetClusterInfoAsync()).Silo);
            // Still one silo each: the restarted server did not join the one left running.
            AssertOneSilo(await clientB.GetClusterInfoAsync());

            using var http = Http(a.Url);
            Assert.Equal(tokens, await SampleAsync(http, sampler.SessionId));
            var resumed = await again.GetTrainingClientAsync(run.RunId);
            Assert.Equal(1, (await resumed.GetInfoAsync()).Step);
            await (await resumed.ForwardBackwardAsync([Example], "cross_entropy")).ResultAsync();
            await (await resumed.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync();
            Assert.Equal(2, (await resumed.GetInfoAsync()).Step);
        }
        finally
        {
            a?.Dispose();
            try { (await startingB).Dispose(); } catch (Exception) { }
        }
    }

    [Fact(Timeout = 3 * 60 * 1000)]
    public async Task ClusterNoneStartsNoSilo()
    {
        using var data = new TempDirectory();
        using var serve = await ServeProcess.StartAsync(TinyModel.ModelDirectory, data.Path, "--cluster", "none");
        using var client = ServiceClient.Connect(serve.Url, ServeProcess.AdminKey);
        var cluster = await client.GetClusterInfoAsync();
        Assert.Equal("none", cluster.Membership);
        Assert.Null(cluster.Silo);
        Assert.Empty(cluster.Silos);
        Assert.Equal(0, (await (await client.CreateLoraTrainingClientAsync(Model, rank: 4, seed: 8)).GetInfoAsync()).Step);
    }

    static ClusterInfo AssertOneSilo(ClusterInfo cluster)
    {
        Assert.Equal("localhost", cluster.Membership);
        var silo = Assert.Single(cluster.Silos);
        Assert.Equal(cluster.Silo, silo.Address);
        Assert.Equal("active", silo.Status);
        Assert.Equal([Model], silo.BaseModels);
        return cluster;
    }

    static async Task AssertNotFoundAsync(Func<Task> call)
    {
        var refused = await Assert.ThrowsAsync<WhetstoneApiException>(call);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
    }

    static HttpClient Http(Uri url)
    {
        var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServeProcess.AdminKey);
        return http;
    }

    /// <summary>Samples through raw HTTP with only the session's id, as a client that outlived the server would.</summary>
    static async Task<IReadOnlyList<int>> SampleAsync(HttpClient http, string sessionId)
    {
        using var response = await http.PostAsync(Routes.Sample(sessionId),
            new StringContent(JsonSerializer.Serialize(Greedy, ProtocolJson.Options), Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"sampling session {sessionId} after the restart: {(int)response.StatusCode} {text}");
        var future = JsonSerializer.Deserialize<UntypedFuture>(text, ProtocolJson.Options)!;
        for (int poll = 0; poll < 12; poll++)
        {
            var answer = JsonSerializer.Deserialize<FutureResponse>(
                await http.GetStringAsync(Routes.Future(future.RequestId) + "?timeout_seconds=10"), ProtocolJson.Options)!;
            if (answer.Status == FutureStatus.Done) return answer.Result!.Value.Deserialize<SampleOutput>(ProtocolJson.Options)!.Sequences[0].Tokens;
            Assert.NotEqual(FutureStatus.Failed, answer.Status);
        }
        Assert.Fail("the sample after the restart did not finish in 120 s");
        return [];
    }
}
