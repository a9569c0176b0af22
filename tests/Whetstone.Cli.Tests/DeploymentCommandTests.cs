using System.Text.Json.Nodes;
using Whetstone.Client;

namespace Whetstone.Cli.Tests;

/// <summary>`whet deployment list|info|create|promote|rollback` against a real server: versions
/// and name@latest move as the server records them; another tenant sees none of it.</summary>
public class DeploymentCommandTests
{
    [Fact]
    public async Task CreatePromoteAndRollBackMoveTheCurrentVersion()
    {
        await using var server = await CliServer.StartAsync();
        string second;
        using (var client = ServiceClient.Connect(new Uri(server.Url), server.AliceKey))
        {
            var run = await client.CreateLoraTrainingClientAsync(Path.GetFileName(TinyModel.ModelDirectory), rank: 2);
            second = (await (await run.SaveWeightsForSamplerAsync("v2")).ResultAsync()).Path;
        }

        var created = JsonNode.Parse(server.Alice("deployment", "create", "helper", "--checkpoint", server.SamplerPath, "--json"))!;
        Assert.Equal(("helper", 1, server.SamplerPath), ((string?)created["name"], (int)created["current_version"]!, (string?)created["versions"]![0]!["checkpoint"]));

        var promoted = JsonNode.Parse(server.Alice("deployment", "promote", "helper", "--checkpoint", second, "--json"))!;
        Assert.Equal((2, second), ((int)promoted["current_version"]!, (string?)promoted["versions"]![1]!["checkpoint"]));
        Assert.Equal(1, (int)JsonNode.Parse(server.Alice("deployment", "rollback", "helper", "--json"))!["current_version"]!);
        Assert.Equal(2, (int)JsonNode.Parse(server.Alice("deployment", "rollback", "helper", "--version", "2", "--json"))!["current_version"]!);

        var listed = JsonNode.Parse(server.Alice("deployment", "list", "--json"))!["deployments"]!.AsArray();
        Assert.Equal(("helper", 2, 2), ((string?)listed.Single()!["name"], (int)listed[0]!["current_version"]!, listed[0]!["versions"]!.AsArray().Count));
        string plain = server.Alice("deployment", "info", "helper");
        Assert.Contains("current     v2 (helper@latest)", plain);
        Assert.Contains($"* v2", plain);

        // Refusals name the API's field or the flag, exit 2, and change nothing.
        var unknownVersion = server.As(server.AliceKey, "deployment", "rollback", "helper", "--version", "9");
        Assert.Equal(2, unknownVersion.ExitCode);
        Assert.Contains("version", unknownVersion.Stderr);
        var noCheckpoint = server.As(server.AliceKey, "deployment", "promote", "helper");
        Assert.Equal(2, noCheckpoint.ExitCode);
        Assert.Contains("--checkpoint", noCheckpoint.Stderr);
        Assert.Equal(2, (int)JsonNode.Parse(server.Alice("deployment", "info", "helper", "--json"))!["current_version"]!);

        // Another tenant sees no deployments, and cannot roll this one back.
        Assert.Empty(JsonNode.Parse(server.As(server.BobKey, "deployment", "list", "--json").Stdout)!["deployments"]!.AsArray());
        var foreign = server.As(server.BobKey, "deployment", "rollback", "helper", "--json");
        Assert.Equal((2, ""), (foreign.ExitCode, foreign.Stdout));
        Assert.Contains("404", foreign.Stderr);
        Assert.Equal(2, (int)JsonNode.Parse(server.Alice("deployment", "info", "helper", "--json"))!["current_version"]!);
    }
}
