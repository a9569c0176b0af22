using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
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
    const string AdminKey = "whet_cluster_admin";
    static readonly string? Postgres = Environment.GetEnvironmentVariable("WHET_TEST_POSTGRES");
    readonly List<Process> _processes = [];
    readonly TempDirectory _data = new();
    readonly string _schema = "whet_cluster_" + Guid.NewGuid().ToString("N");

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
        Assert.SkipWhen(string.IsNullOrWhiteSpace(Postgres) && Environment.GetEnvironmentVariable("WHET_SKIP_POSTGRES") == "1",
            "WHET_SKIP_POSTGRES=1: no PostgreSQL for the shared metadata store");
        Assert.False(string.IsNullOrWhiteSpace(Postgres), "needs WHET_TEST_POSTGRES (scripts/test.sh starts a throwaway PostgreSQL) or WHET_SKIP_POSTGRES=1");
        await ExecuteAsync($"CREATE SCHEMA {_schema}");
        string db = new NpgsqlConnectionStringBuilder(Postgres) { SearchPath = _schema }.ConnectionString;
        string cluster = membership == "postgres" ? db : "localhost";
        int http = FreePort(), primary = FreePortPair(), first = FreePortPair(), second = FreePortPair();

        Start(db, cluster, "gateway", primary, primary, "--urls", $"http://127.0.0.1:{http}");
        await WaitForOutputAsync(_processes[0], "whetstone gateway silo");
        var worker1 = Start(db, cluster, "worker", first, primary);
        await WaitForOutputAsync(worker1, "whetstone worker silo");

        using var client = ServiceClient.Connect(new Uri($"http://127.0.0.1:{http}"), AdminKey, RetryPolicy.Default with { MaxAttempts = 30 });
        var run = await CreateWhenWorkerReportedAsync(client);
        for (int s = 0; s < 3; s++) await StepAsync(run, s);
        string state = (await (await run.SaveStateAsync("step-3")).ResultAsync()).Path;
        var beforeKill = new double[2];
        for (int s = 3; s < 5; s++) beforeKill[s - 3] = await StepAsync(run, s);

        var worker2 = Start(db, cluster, "worker", second, primary);
        await WaitForOutputAsync(worker2, "whetstone worker silo");
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

    async Task<TrainingClient> CreateWhenWorkerReportedAsync(ServiceClient client)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try { return await client.CreateLoraTrainingClientAsync(Path.GetFileName(TinyModel.ModelDirectory), rank: 4, seed: 11); }
            catch (WhetstoneApiException e) when (e.Field == "base_model" && DateTime.UtcNow < deadline) { await Task.Delay(500); }
        }
    }

    Process Start(string db, string cluster, string role, int siloPort, int primaryPort, params string[] more)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "whet.dll"), "serve", "--models", TinyModel.ModelDirectory, "--data", _data.Path,
                "--db", db, "--cluster", cluster, "--role", role, "--silo-port", $"{siloPort}", "--primary-silo-port", $"{primaryPort}" },
        };
        foreach (var arg in more) start.ArgumentList.Add(arg);
        start.Environment["WHET_ADMIN_KEY"] = AdminKey;
        var process = Process.Start(start)!;
        _processes.Add(process);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    static async Task WaitForOutputAsync(Process process, string line)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } text)
            if (text.Contains(line)) return;
        throw new InvalidOperationException($"the process exited (code {(process.HasExited ? process.ExitCode : -1)}) before printing '{line}'");
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // A silo uses its port and the next (its Orleans gateway).
    static int FreePortPair()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            try
            {
                using var next = new TcpListener(IPAddress.Loopback, port + 1);
                next.Start();
                return port;
            }
            catch (SocketException) when (attempt < 20) { }
        }
    }

    static async Task ExecuteAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(Postgres!);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
        if (!string.IsNullOrWhiteSpace(Postgres)) await ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
        _data.Dispose();
    }
}
