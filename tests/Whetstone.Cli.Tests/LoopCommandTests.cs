using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Service.Hosting;

namespace Whetstone.Cli.Tests;

/// <summary>`whet loop create|status|pause|resume|lineage` against a real server on a loopback port.</summary>
public class LoopCommandTests
{
    [Fact]
    public async Task CreateThenPauseAndResumeALoopThroughTheServer()
    {
        using var data = new TempDirectory();
        const string key = "whet_cli_loop_test_key";
        await using var server = await WhetstoneServer.StartAsync(new ServerOptions
        {
            ModelDirectories = [TinyModel.ModelDirectory], DataDirectory = data.Path, Urls = ["http://127.0.0.1:0"], AdminKey = key,
            LoopTickInterval = TimeSpan.Zero,   // the loop is only created and switched here, never run
        });
        string url = server.Urls[0];
        using (var client = ServiceClient.Connect(new Uri(url), key))
        {
            var run = await client.CreateLoraTrainingClientAsync(Path.GetFileName(TinyModel.ModelDirectory), rank: 4);
            var sampler = await (await run.SaveWeightsForSamplerAsync("v1")).ResultAsync();
            await client.Deployments.CreateAsync("helper", sampler.Path);
        }

        var created = JsonNode.Parse(Whet.Succeed("loop", "create", "--url", url, "--api-key", key, "--deployment", "helper", "--every-feedback", "7",
            "--canary-percent", "25"))!;
        string id = (string)created["id"]!;
        Assert.Equal(("request", "within_user"), ((string?)created["canary"]!["split"], (string?)created["canary"]!["compare"]));
        Assert.Equal(("helper", "active", "idle", 7, 25.0), ((string?)created["deployment"], (string?)created["status"], (string?)created["state"],
            (int)created["trigger"]!["every_feedback"]!, (double)created["canary"]!["percent"]!));

        Assert.Equal("paused", (string?)JsonNode.Parse(Whet.Succeed("loop", "pause", id, "--url", url, "--api-key", key))!["status"]);
        Assert.Equal("paused", (string?)JsonNode.Parse(Whet.Succeed("loop", "status", id, "--url", url, "--api-key", key))!["status"]);
        Assert.Equal("active", (string?)JsonNode.Parse(Whet.Succeed("loop", "resume", id, "--url", url, "--api-key", key))!["status"]);
        var all = JsonNode.Parse(Whet.Succeed("loop", "status", "--url", url, "--api-key", key))!.AsArray();
        Assert.Equal(id, (string?)all.Single()!["id"]);
        Assert.Empty(JsonNode.Parse(Whet.Succeed("loop", "lineage", id, "--url", url, "--api-key", key))!["iterations"]!.AsArray());

        // A within-user comparison of a per-user split is refused by the server, by field.
        var refused = Whet.Run("loop", "create", "--url", url, "--api-key", key, "--deployment", "helper", "--canary-split", "user");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("canary.compare", refused.Stderr);

        // No key at all is a bad argument, named.
        if (Environment.GetEnvironmentVariable("WHET_API_KEY") is null)
        {
            var outcome = Whet.Run("loop", "status", id, "--url", url);
            Assert.Equal(2, outcome.ExitCode);
            Assert.Contains("WHET_API_KEY", outcome.Stderr);
        }
    }
}
