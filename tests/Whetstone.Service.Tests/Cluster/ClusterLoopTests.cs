using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Cluster;
using Whetstone.Service.Tests.Loops;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>A loop in a cluster whose three silos all tick (a gateway and two workers of the
/// deployment's base model): it is advanced by its one loop grain, on a worker of that model, so
/// its iteration is started, trained and finished once — one iteration, one candidate run, its
/// feedback window counted once. (With every process's runner advancing every loop, the store's
/// compare-and-set stops a second start, but a loop in training is resumed by whoever ticks.)</summary>
[Collection(ClusterCollection.Name)]
public class ClusterLoopTests
{
    [Fact]
    public async Task ALoopIsAdvancedByOneWorkerOfItsModelAndItsIterationRunsOnce()
    {
        await using var cluster = await TestWorkers.StartAsync(TimeSpan.FromMilliseconds(100), [TestWorkers.ModelA], [TestWorkers.ModelA]);
        using var http = await cluster.Gateway.InMemoryClientAsync("lou");
        using var sdk = ServiceClient.Connect(await cluster.Gateway.InMemoryClientAsync("lou"));

        var run = await sdk.CreateLoraTrainingClientAsync(TestWorkers.ModelA, rank: 4, seed: 3);
        var tokens = Enumerable.Range(0, 16).Select(i => (i * 13 + 93) % 200 + 5).ToArray();
        await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy(tokens)], "cross_entropy")).ResultAsync();
        await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.05 })).ResultAsync();
        string adapter = (await (await run.SaveWeightsForSamplerAsync("w")).ResultAsync()).Path;
        await PostAsync(http, Routes.Deployments, new { name = "helper", checkpoint = adapter });
        var loop = await PostAsync(http, Routes.Loops, new
        {
            deployment = "helper", trigger = new { every_feedback = 4 },
            rl = new { steps = 1, prompts_per_step = 2, group_size = 2, max_tokens = 4 },
            gate = new { held_out_prompts = 2, tolerance = 1000.0, max_tokens = 4, regression_suite = LoopHarness.AlwaysPasses, min_changed_answers = 0 },
            canary = new { percent = 0.0 },
        });
        string id = (string)loop["id"]!;
        for (int i = 0; i < 4; i++)
        {
            var answer = await PostAsync(http, Routes.OpenAiCompletions, new
            {
                model = "helper@latest", prompt = new[] { 11 + i, 12, 13, 14 }, max_tokens = 6, temperature = 1.0, seed = i, user = $"u{i}",
            });
            await PostAsync(http, Routes.Feedback, new { completion_id = (string)answer["id"]!, type = i % 2 == 0 ? "thumbs_up" : "thumbs_down" });
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        JsonObject lineage;
        while (!LoopHarness.Finished(lineage = JsonNode.Parse(await http.GetStringAsync(Routes.LoopLineage(id)))!.AsObject(), 1))
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(4)) Assert.Fail($"the iteration did not finish: {lineage.ToJsonString()}");
            await Task.Delay(100);
        }
        await Task.Delay(1000);   // ten more ticks of every silo
        lineage = JsonNode.Parse(await http.GetStringAsync(Routes.LoopLineage(id)))!.AsObject();
        var info = JsonNode.Parse(await http.GetStringAsync(Routes.Loop(id)))!.AsObject();

        var iteration = Assert.Single(lineage["iterations"]!.AsArray())!.AsObject();
        Assert.Equal(4L, (long)info["feedback_consumed"]!);
        Assert.Equal("idle", (string?)info["state"]);
        var candidates = (await cluster.Gateway.Store.ListRunsAsync("lou"))
            .Where(r => r.UserMetadataJson is { } m && JsonSerializer.Deserialize<Dictionary<string, string>>(m)!.GetValueOrDefault("loop") == id).ToArray();
        Assert.True(candidates.Length <= 1, $"{candidates.Length} candidate runs for one iteration");
        if (iteration["candidate_run"] is { } candidate) Assert.Equal((string)candidate!, Assert.Single(candidates).Id);

        var grain = cluster.GrainFactory.GetGrain<ILoopGrain>(RunGrainKey.Of(TestWorkers.ModelA, id));
        Assert.Contains(await grain.Where(), new[] { cluster.SiloOf(1), cluster.SiloOf(2) });
        Assert.InRange(await grain.Advances(), 1, 1000);
    }

    static async Task<JsonObject> PostAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}
