using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Cli.Tests;

/// <summary>Three real `whet serve --cluster …` processes on loopback (issue #19): a gateway and
/// two workers sharing one data directory (the checkpoint mount) and one metadata store (a
/// throwaway PostgreSQL schema), with membership and grain state in that schema too
/// (`--cluster &lt;PostgreSQL&gt;`, Orleans' ADO.NET providers) or on the first silo (`--cluster localhost`). The worker holding a run is killed with SIGKILL; the
/// run's next calls, retried by the SDK through the 503s, land on the other worker, which resumes
/// it from its last save_state: the steps after it are redone with the losses they had.</summary>
public sealed class ClusterProcessesTests : IAsyncDisposable
{
    ClusterProcesses? _cluster;

    static IReadOnlyList<Datum> Batch(int step) =>
        [Datums.ForCrossEntropy(Enumerable.Range(0, 10).Select(i => (i * 7 + step * 3) % 200 + 5).ToArray())];

    static async Task<double> StepAsync(TrainingClient run, int step)
    {
        var fb = await run.ForwardBackwardAsync(Batch(step), "cross_entropy");
        var optim = await run.OptimStepAsync(new AdamParams { LearningRate = 5e-3 });
        var loss = (await fb.ResultAsync()).Metrics["loss:sum"];
        await optim.ResultAsync();
        return loss;
    }

    // Bounded (xunit fails it and disposes the class, which kills the processes): a call that
    // never completes must fail CI with a message, not hang it.
    [Theory(Timeout = 15 * 60 * 1000)]
    [InlineData("postgres")]
    [InlineData("localhost")]
    public async Task AWorkerKilledWithSigkillLosesOnlyTheStepsAfterTheLastSave(string membership)
    {
        var processes = _cluster = await ClusterProcesses.CreateAsync();
        string cluster = membership == "postgres" ? processes.Database : "localhost";
        int http = ClusterProcesses.FreePort(), primary = ClusterProcesses.FreePortPair();
        int first = ClusterProcesses.FreePortPair(), second = ClusterProcesses.FreePortPair();

        await ClusterProcesses.WaitForOutputAsync(processes.Start(cluster, "gateway", primary, primary, "--urls", $"http://127.0.0.1:{http}"), "whetstone gateway silo");
        var worker1 = processes.Start(cluster, "worker", first, primary);
        await ClusterProcesses.WaitForOutputAsync(worker1, "whetstone worker silo");

        using var client = ServiceClient.Connect(new Uri($"http://127.0.0.1:{http}"), ClusterProcesses.AdminKey, RetryPolicy.Default with { MaxAttempts = 30 });
        var run = await ClusterProcesses.CreateWhenWorkerReportedAsync(client, seed: 11);
        for (int s = 0; s < 3; s++) await StepAsync(run, s);
        string state = (await (await run.SaveStateAsync("step-3")).ResultAsync()).Path;
        var beforeKill = new double[2];
        for (int s = 3; s < 5; s++) beforeKill[s - 3] = await StepAsync(run, s);

        var worker2 = processes.Start(cluster, "worker", second, primary);
        await ClusterProcesses.WaitForOutputAsync(worker2, "whetstone worker silo");
        await Task.Delay(TimeSpan.FromSeconds(3));   // its first reports reach the directory
        worker1.Kill();                              // SIGKILL: no goodbye to the cluster
        await worker1.WaitForExitAsync();

        var info = await run.GetInfoAsync();
        Assert.Equal(3, info.Step);
        Assert.Equal(state, info.LastCheckpoint);
        var redone = new double[3];
        for (int s = 3; s < 6; s++) redone[s - 3] = await StepAsync(run, s);
        Assert.Equal(beforeKill, redone[..2]);
        Assert.All(redone, l => Assert.True(double.IsFinite(l) && l > 0));
        Assert.Equal(6, (await run.GetInfoAsync()).Step);
        Assert.False(worker2.HasExited);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
