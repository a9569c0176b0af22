using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Console.Tests;

/// <summary>GET/POST /api/v1/training_runs/{id}/metrics, what the console's curves read: the
/// service records each forward_backward's loss:sum at the step it ran on and each optim_step's
/// grad_norm; clients add their own; only the run's tenant reads or writes them; a bad request
/// names its field and records nothing.</summary>
public class RunMetricsApiTests
{
    [Fact]
    public async Task LossAndGradNormAreRecordedPerStepAndClientMetricsBesideThem()
    {
        await using var server = await ConsoleServer.StartAsync();
        string key = await server.KeyAsync("fay");
        using var sdk = server.Sdk(key);
        var run = await sdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 4, seed: 9);
        var losses = new List<double>();
        var norms = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            var output = await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([11, 12, 13, 14, 15, 16])], "cross_entropy")).ResultAsync();
            losses.Add(output.Metrics["loss:sum"]);
            norms.Add((await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync()).Metrics["grad_norm"]);
        }
        // A forward without backward is not a training loss: not recorded.
        await (await run.ForwardAsync([Datums.ForCrossEntropy([11, 12, 13])], "cross_entropy")).ResultAsync();
        await run.RecordMetricsAsync(3, new Dictionary<string, double> { ["reward"] = 0.75, ["eval/accuracy"] = 0.5 });

        var metrics = await run.GetMetricsAsync();
        var loss = metrics.Points.Where(p => p.Name == "loss:sum").ToArray();
        Assert.Equal([0L, 1, 2], loss.Select(p => p.Step));   // the loss of step s is computed before update s+1
        Assert.Equal(losses, loss.Select(p => p.Value));
        var gradNorm = metrics.Points.Where(p => p.Name == "grad_norm").ToArray();
        Assert.Equal([1L, 2, 3], gradNorm.Select(p => p.Step));
        Assert.Equal(norms, gradNorm.Select(p => p.Value));
        Assert.Equal(0.75, metrics.Points.Single(p => p.Name == "reward" && p.Step == 3).Value);
        Assert.Equal(0.5, metrics.Points.Single(p => p.Name == "eval/accuracy" && p.Step == 3).Value);
        Assert.Equal(8, metrics.Next);
        Assert.True(losses[2] < losses[0], $"loss {losses[0]} → {losses[2]} did not fall");

        // "after" returns only what is new: what a polling page asks for.
        var tail = await run.GetMetricsAsync(after: 6);
        Assert.Equal(["reward", "eval/accuracy"], tail.Points.Select(p => p.Name).Order().Reverse());
        Assert.Empty((await run.GetMetricsAsync(after: metrics.Next)).Points);
    }

    [Fact]
    public async Task AnotherTenantCannotReadOrWriteARunsMetricsAndBadPointsAreRefusedByField()
    {
        await using var server = await ConsoleServer.StartAsync();
        string owner = await server.KeyAsync("gus"), other = await server.KeyAsync("hal");
        using var sdk = server.Sdk(owner);
        var run = await sdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 4, seed: 1);
        await run.RecordMetricsAsync(0, new Dictionary<string, double> { ["reward"] = 1 });
        string path = Routes.RunMetrics(run.RunId);

        using var stranger = server.Raw(other);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Post(stranger, path, """{"step": 1, "metrics": {"reward": 2}}""")).StatusCode);
        using var anonymous = server.Raw(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);

        using var http = server.Raw(owner);
        await AssertRefusedAsync(await Post(http, path, """{"step": -1, "metrics": {"reward": 2}}"""), "step");
        await AssertRefusedAsync(await Post(http, path, """{"step": 1, "metrics": {}}"""), "metrics");
        await AssertRefusedAsync(await Post(http, path, """{"step": 1, "metrics": {"reward": 2, "": 1}}"""), "metrics");
        await AssertRefusedAsync(await http.GetAsync(path + "?after=-3"), "after");
        await AssertRefusedAsync(await http.GetAsync(path + "?after=x"), "after");
        // Nothing of the refused calls was kept: still the one point.
        var points = (await run.GetMetricsAsync()).Points;
        Assert.Equal(1.0, Assert.Single(points).Value);
    }

    static Task<HttpResponseMessage> Post(HttpClient http, string path, string json) =>
        http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    static async Task AssertRefusedAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal(field, (string?)JsonNode.Parse(body)!["error"]!["field"]);
    }
}
