using System.Diagnostics;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Reliability;

/// <summary>The checkpoint directory on a real, small filesystem (a 1 MiB tmpfs mounted over
/// DATA/checkpoints) filled up: a save fails with 507 insufficient_storage, leaves no file behind,
/// and the server goes on training, sampling and — once space is freed — saving. Mounting needs
/// root; without it the test is skipped, saying so.</summary>
public class DiskFullTests
{
    static bool Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(start)!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    [Fact]
    public async Task ASaveOnAFullDiskIs507LeavesNothingPartialAndTheServerKeepsWorking()
    {
        var data = TestServers.NewDataDirectory();
        var checkpoints = Directory.CreateDirectory(Path.Combine(data, "checkpoints")).FullName;
        bool mounted = OperatingSystem.IsLinux() && Run("mount", "-t", "tmpfs", "-o", "size=1m", "whetstone-full", checkpoints);
        Assert.SkipUnless(mounted, "mounting a small tmpfs needs root on Linux (mount -t tmpfs -o size=1m); not available here");
        try
        {
            await using var server = await TestServers.StartAsync(data);
            using var client = await TestServers.ClientAsync(server, "dora");
            var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 2);
            await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([5, 6, 7, 8, 9, 10])], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.01 })).ResultAsync();
            var first = await (await run.SaveStateAsync("fits")).ResultAsync();   // ~45 KB: fits

            // Fill what is left but 8 KB: the next save cannot fit.
            var filler = Path.Combine(checkpoints, "filler");
            var free = new DriveInfo(checkpoints).AvailableFreeSpace;
            await File.WriteAllBytesAsync(filler, new byte[Math.Max(0, free - 8192)]);
            var before = Directory.GetFileSystemEntries(checkpoints, "*", SearchOption.AllDirectories).Order().ToArray();

            var error = await Assert.ThrowsAsync<WhetstoneApiException>(async () => await (await run.SaveStateAsync("too-big")).ResultAsync());
            Assert.Equal("insufficient_storage", error.Code);
            Assert.Contains("disk is full", error.Message);
            // Nothing of the failed save stays: no directory, no staging, no record.
            Assert.Equal(before, Directory.GetFileSystemEntries(checkpoints, "*", SearchOption.AllDirectories).Order().ToArray());
            var listed = (await client.CreateRestClient().ListCheckpointsAsync(run.RunId)).Checkpoints.Select(c => c.Path).ToArray();
            Assert.Equal([first.Path], listed);

            // Still usable: training goes on, the saved checkpoint loads, and with space back saving works.
            await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([5, 6, 7, 8, 9, 10])], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.01 })).ResultAsync();
            Assert.Equal(first.Path, await (await run.LoadStateAsync(first.Path)).ResultAsync());
            File.Delete(filler);
            var again = await (await run.SaveStateAsync("too-big")).ResultAsync();
            Engine.Formats.CheckpointDirectory.Verify(Path.Combine(checkpoints, run.RunId, "weights", "too-big"));
            Assert.EndsWith("/weights/too-big", again.Path);
        }
        finally
        {
            Run("umount", "-l", checkpoints);
        }
    }
}
