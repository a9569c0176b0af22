using System.Diagnostics;

namespace Whetstone.Cli.Tests;

/// <summary>`whet checkpoint download` on a terminal shows Spectre.Console's progress display; the
/// in-process runs of the other tests (stdout not a terminal) show none. The terminal is util-linux
/// `script`'s pseudo-terminal around the real whet binary.</summary>
public class CheckpointDownloadProgressTests
{
    [Fact]
    public async Task OnATerminalTheDownloadDrawsAProgressDisplayAndWritesTheFile()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/script"), "needs util-linux `script` for a pseudo-terminal");
        await using var server = await CliServer.StartAsync();
        using var files = new TempDirectory();
        string whet = Path.Combine(AppContext.BaseDirectory, "whet.dll");
        string command = $"dotnet '{whet}' checkpoint download '{server.SamplerPath}' --format peft --out '{files["a.zip"]}' --url {server.Url} --api-key {server.AliceKey}";

        var start = new ProcessStartInfo("/usr/bin/script", ["-qec", command, "/dev/null"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(start)!;
        string terminal = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, terminal + await process.StandardError.ReadToEndAsync());
        // The display: cursor control sequences and the task's label, before the final line.
        Assert.Contains("\u001b[", terminal);
        Assert.Contains("peft a.zip", terminal);
        Assert.Contains($"wrote {files["a.zip"]} ({new FileInfo(files["a.zip"]).Length} bytes, peft)", terminal);

        // Redirected (the in-process runner under `dotnet test`), the same command prints its one line only.
        if (!Console.IsOutputRedirected) return;   // this runner's own stdout is a terminal: the display is drawn here too
        string plain = server.Alice("checkpoint", "download", server.SamplerPath, "--format", "peft", "--out", files["b.zip"]);
        Assert.Equal($"wrote {files["b.zip"]} ({new FileInfo(files["b.zip"]).Length} bytes, peft){Environment.NewLine}", plain);
    }
}
