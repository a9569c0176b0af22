using System.Text.Json.Nodes;

namespace Whetstone.Cli.Tests;

/// <summary>`whet run list|info` against a real server: the caller's runs only, as plain lines or --json,
/// with the key from --api-key or else WHET_API_KEY.</summary>
public class RunCommandTests
{
    [Fact]
    public async Task ListAndInfoShowTheCallersRunWithItsRankAndStep()
    {
        await using var server = await CliServer.StartAsync();
        string runId = server.Run.RunId;

        var runs = JsonNode.Parse(server.Alice("run", "list", "--json"))!["runs"]!.AsArray();
        var run = Assert.Single(runs)!;
        Assert.Equal((runId, "tiny-" + Environment.ProcessId, 4, 1L), ((string?)run["run_id"], (string?)run["base_model"], (int)run["rank"]!, (long)run["step"]!));

        // The plain listing has a header and one row naming the same values.
        var lines = server.Alice("run", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal([runId, "tiny-" + Environment.ProcessId, "4", "1"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4]);

        var info = JsonNode.Parse(server.Alice("run", "info", runId, "--json"))!;
        Assert.Equal((runId, 1L, server.SamplerPath), ((string?)info["run_id"], (long)info["step"]!, (string?)info["last_sampler_checkpoint"]));
        Assert.Contains($"last sampler     {server.SamplerPath}", server.Alice("run", "info", runId));

        // Another tenant sees no runs, and cannot read this one.
        Assert.Empty(JsonNode.Parse(server.As(server.BobKey, "run", "list", "--json").Stdout)!["runs"]!.AsArray());
        var foreign = server.As(server.BobKey, "run", "info", runId, "--json");
        Assert.Equal((2, ""), (foreign.ExitCode, foreign.Stdout));
        Assert.Contains("404", foreign.Stderr);

        // Without --api-key the key comes from WHET_API_KEY (commands run one at a time, so the variable is this test's while set).
        string? before = Environment.GetEnvironmentVariable("WHET_API_KEY");
        try
        {
            Environment.SetEnvironmentVariable("WHET_API_KEY", server.AliceKey);
            var fromEnvironment = JsonNode.Parse(Whet.Succeed("run", "list", "--url", server.Url, "--json"))!["runs"]!.AsArray();
            Assert.Equal(runId, (string?)Assert.Single(fromEnvironment)!["run_id"]);
            Environment.SetEnvironmentVariable("WHET_API_KEY", server.BobKey);
            Assert.Empty(JsonNode.Parse(Whet.Succeed("run", "list", "--url", server.Url, "--json"))!["runs"]!.AsArray());
        }
        finally { Environment.SetEnvironmentVariable("WHET_API_KEY", before); }

        // A bad key is refused by the server: exit 2, nothing on stdout, the status on stderr.
        var badKey = server.As("whet_not_a_key", "run", "list", "--json");
        Assert.Equal((2, ""), (badKey.ExitCode, badKey.Stdout));
        Assert.Contains("401", badKey.Stderr);
    }
}
