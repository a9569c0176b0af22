using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace Whetstone.Cli.Tests;

/// <summary>`whet checkpoint …` against a real server: listing, publishing, TTLs, downloads in
/// each format, deletion, and another tenant's checkpoint being not found.</summary>
public class CheckpointCommandTests
{
    [Fact]
    public async Task ListInfoPublishAndTtlChangeWhatTheServerStores()
    {
        await using var server = await CliServer.StartAsync();

        var listed = JsonNode.Parse(server.Alice("checkpoint", "list", "--json"))!["checkpoints"]!.AsArray();
        Assert.Equal([server.SamplerPath, server.StatePath], listed.Select(c => (string)c!["path"]!).Order());
        Assert.All(listed, c => Assert.True((long)c!["size_bytes"]! > 0));
        Assert.Equal(2, JsonNode.Parse(server.Alice("checkpoint", "list", server.Run.RunId, "--json"))!["checkpoints"]!.AsArray().Count);

        var info = JsonNode.Parse(server.Alice("checkpoint", "info", server.SamplerPath, "--json"))!;
        Assert.Equal(("sampler_weights", "v1", false), ((string?)info["kind"], (string?)info["name"], (bool)info["published"]!));

        // Another tenant cannot see it until it is published, and sees it again as not found after.
        Assert.Equal(2, server.As(server.BobKey, "checkpoint", "info", server.SamplerPath).ExitCode);
        Assert.True((bool)JsonNode.Parse(server.Alice("checkpoint", "publish", server.SamplerPath, "--json"))!["published"]!);
        Assert.Equal(server.SamplerPath, (string?)JsonNode.Parse(server.As(server.BobKey, "checkpoint", "info", server.SamplerPath, "--json").Stdout)!["path"]);
        Assert.False((bool)JsonNode.Parse(server.Alice("checkpoint", "unpublish", server.SamplerPath, "--json"))!["published"]!);
        var hidden = server.As(server.BobKey, "checkpoint", "info", server.SamplerPath, "--json");
        Assert.Equal((2, ""), (hidden.ExitCode, hidden.Stdout));
        Assert.Contains("404", hidden.Stderr);

        // A TTL of 2h expires two hours from now; none clears it; a malformed one is refused naming --ttl.
        var before = DateTimeOffset.UtcNow;
        var expiring = JsonNode.Parse(server.Alice("checkpoint", "set-ttl", server.StatePath, "--ttl", "2h", "--json"))!;
        var expiresAt = DateTimeOffset.Parse((string)expiring["expires_at"]!);
        Assert.InRange(expiresAt, before.AddHours(2).AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(2).AddSeconds(1));
        Assert.Null(JsonNode.Parse(server.Alice("checkpoint", "set-ttl", server.StatePath, "--ttl", "none", "--json"))!["expires_at"]);
        var badTtl = server.As(server.AliceKey, "checkpoint", "set-ttl", server.StatePath, "--ttl", "soon");
        Assert.Equal(2, badTtl.ExitCode);
        Assert.Contains("--ttl 'soon'", badTtl.Stderr);
    }

    [Fact]
    public async Task DownloadWritesEachFormatAndDeleteRemovesOnlyTheOwnersCheckpoint()
    {
        await using var server = await CliServer.StartAsync();
        using var files = new TempDirectory();

        var peft = JsonNode.Parse(server.Alice("checkpoint", "download", server.SamplerPath, "--format", "peft", "--out", files["peft.zip"], "--json"))!;
        Assert.Equal((files["peft.zip"], new FileInfo(files["peft.zip"]).Length), ((string?)peft["file"], (long)peft["bytes"]!));
        using (var zip = ZipFile.OpenRead(files["peft.zip"]))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("adapter_config.json", names);
            var adapter = zip.GetEntry("adapter_model.safetensors")!;
            Assert.True(adapter.Length > 8, $"adapter_model.safetensors has {adapter.Length} bytes");
            var config = JsonNode.Parse(zip.GetEntry("adapter_config.json")!.Open())!;
            Assert.Equal(4, (int)config["r"]!);
        }

        // Merged: full Hugging Face weights with their config and tokenizer.
        server.Alice("checkpoint", "download", server.SamplerPath, "--format", "merged", "--out", files["merged.zip"], "--json");
        using (var zip = ZipFile.OpenRead(files["merged.zip"]))
        {
            var names = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Superset(new HashSet<string> { "config.json", "model.safetensors", "tokenizer.json" }, names);
            var model = zip.GetEntry("model.safetensors")!;
            Assert.True(model.Length > new FileInfo(files["peft.zip"]).Length, $"merged weights {model.Length} bytes, adapter zip {new FileInfo(files["peft.zip"]).Length}");
        }

        // GGUF: the merged model as one file starting with the format's magic.
        string gguf = server.Alice("checkpoint", "download", server.SamplerPath, "--format", "gguf", "--out", files["model.zip"]);
        Assert.Contains($"wrote {files["model.zip"]}", gguf);
        using (var zip = ZipFile.OpenRead(files["model.zip"]))
        {
            var entry = Assert.Single(zip.Entries, e => e.FullName.EndsWith(".gguf", StringComparison.Ordinal));
            var magic = new byte[4];
            using var stream = entry.Open();
            stream.ReadExactly(magic);
            Assert.Equal("GGUF", Encoding.ASCII.GetString(magic));
        }

        // A format that is not one is refused naming --format, with no file written.
        var badFormat = server.As(server.AliceKey, "checkpoint", "download", server.SamplerPath, "--format", "onnx", "--out", files["x.zip"]);
        Assert.Equal(2, badFormat.ExitCode);
        Assert.Contains("--format 'onnx'", badFormat.Stderr);
        Assert.False(File.Exists(files["x.zip"]) || File.Exists(files["x.zip.partial"]));

        // Another tenant can neither download nor delete it: not found, and it is still there.
        var foreignDownload = server.As(server.BobKey, "checkpoint", "download", server.SamplerPath, "--out", files["stolen.zip"]);
        Assert.Equal(2, foreignDownload.ExitCode);
        Assert.Contains("404", foreignDownload.Stderr);
        Assert.False(File.Exists(files["stolen.zip"]) || File.Exists(files["stolen.zip.partial"]));
        var foreignDelete = server.As(server.BobKey, "checkpoint", "delete", server.SamplerPath);
        Assert.Equal(2, foreignDelete.ExitCode);
        Assert.Contains("404", foreignDelete.Stderr);
        server.Alice("checkpoint", "info", server.SamplerPath);

        Assert.Equal(server.SamplerPath, (string?)JsonNode.Parse(server.Alice("checkpoint", "delete", server.SamplerPath, "--json"))!["deleted"]);
        Assert.Equal([server.StatePath], JsonNode.Parse(server.Alice("checkpoint", "list", "--json"))!["checkpoints"]!.AsArray().Select(c => (string)c!["path"]!));
        Assert.Equal(2, server.As(server.AliceKey, "checkpoint", "info", server.SamplerPath).ExitCode);
    }
}
