using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;

namespace Whetstone.Client.Tests;

public class RestClientTests
{
    const string CheckpointPath = "whet://run-1/weights/step 10";

    [Fact]
    public async Task ACheckpointIsNamedByItsPathEscapedInTheQuery()
    {
        string? pathSeen = null;
        await using var server = await ScriptedServer.StartAsync((_, context) =>
        {
            pathSeen = context.Request.Query["path"];
            return ScriptedServer.Json(context, new CheckpointInfo(CheckpointPath, "run-1", "weights", "step 10") { SizeBytes = 42 });
        });
        using var transport = TestTransports.Http(server);

        var checkpoint = await new ServiceClient(transport).CreateRestClient().GetCheckpointAsync(CheckpointPath);

        Assert.Equal(42, checkpoint.SizeBytes);
        Assert.Equal(CheckpointPath, pathSeen);
        Assert.Equal("/api/v1/checkpoints", server.Requests.Single().Path);
        Assert.Equal("?path=whet%3A%2F%2Frun-1%2Fweights%2Fstep%2010", server.Requests.Single().Query);
    }

    [Fact]
    public async Task ChangesToACheckpointNeedNoAnswerBody()
    {
        await using var server = await ScriptedServer.StartAsync((_, context) =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        using var transport = TestTransports.Http(server);
        var rest = new ServiceClient(transport).CreateRestClient();

        await rest.SetCheckpointTtlAsync(CheckpointPath, TimeSpan.FromHours(1));
        await rest.PublishCheckpointAsync(CheckpointPath);
        await rest.DeleteCheckpointAsync(CheckpointPath);

        Assert.Equal(["POST /api/v1/checkpoints/ttl", "POST /api/v1/checkpoints/publish", "DELETE /api/v1/checkpoints"],
            server.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal(3600, server.Requests[0].Json.GetProperty("ttl_seconds").GetDouble());
    }

    [Fact]
    public async Task ADownloadWritesTheServersBytesToTheFile()
    {
        var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        await using var server = await ScriptedServer.StartAsync((request, context) => request.Index == 1
            ? ScriptedServer.Error(context, 503, "unavailable", "Busy.")
            : context.Response.Body.WriteAsync(bytes).AsTask());
        using var transport = TestTransports.Http(server);
        var file = Path.Combine(Path.GetTempPath(), $"whetstone-download-{Guid.NewGuid():N}.tar");

        try
        {
            await new ServiceClient(transport).CreateRestClient().DownloadCheckpointToFileAsync(
                "whet://run-1/sampler_weights/final", CheckpointDownloadFormat.Merged, file);

            Assert.Equal(bytes, await File.ReadAllBytesAsync(file));
            Assert.False(File.Exists(file + ".partial"));
            Assert.Equal("/api/v1/checkpoints/download", server.Requests[1].Path);
            Assert.EndsWith("&format=merged", server.Requests[1].Query);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task UsageIsAskedPerRunAndPerKey()
    {
        await using var server = await ScriptedServer.StartAsync((request, context) =>
            ScriptedServer.Json(context, new UsageInfo { TrainedTokens = request.Index * 1000 }));
        using var transport = TestTransports.Http(server);
        var rest = new ServiceClient(transport).CreateRestClient();

        var run = await rest.GetRunUsageAsync("run-1");
        var key = await rest.GetUsageAsync();

        Assert.Equal(1000, run.TrainedTokens);
        Assert.Equal(2000, key.TrainedTokens);
        Assert.Equal(["/api/v1/training_runs/run-1/usage", "/api/v1/usage"], server.Requests.Select(r => r.Path));
    }
}
