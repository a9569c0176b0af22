using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Whetstone.Client;

namespace Whetstone.Cli.Tests;

/// <summary>Real `whet serve --cluster … --role gateway|worker` processes on loopback sharing one
/// data directory (the checkpoint mount) and one metadata store (a throwaway PostgreSQL schema,
/// dropped on dispose with the directory). Disposing kills whatever still runs, so a test that
/// fails or times out leaves no process behind.</summary>
internal sealed class ClusterProcesses : IAsyncDisposable
{
    public const string AdminKey = "whet_cluster_admin";
    public static readonly string? Postgres = Environment.GetEnvironmentVariable("WHET_TEST_POSTGRES");
    readonly List<Process> _processes = [];
    readonly TempDirectory _data = new();
    readonly string _schema = "whet_cluster_" + Guid.NewGuid().ToString("N");

    /// <summary>The schema's connection string: the metadata store, and PostgreSQL membership.</summary>
    public string Database => new NpgsqlConnectionStringBuilder(Postgres) { SearchPath = _schema }.ConnectionString;

    /// <summary>Skips without PostgreSQL where WHET_SKIP_POSTGRES=1 says so (fails otherwise), then creates the schema.</summary>
    public static async Task<ClusterProcesses> CreateAsync()
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(Postgres) && Environment.GetEnvironmentVariable("WHET_SKIP_POSTGRES") == "1",
            "WHET_SKIP_POSTGRES=1: no PostgreSQL for the shared metadata store");
        Assert.False(string.IsNullOrWhiteSpace(Postgres), "needs WHET_TEST_POSTGRES (scripts/test.sh starts a throwaway PostgreSQL) or WHET_SKIP_POSTGRES=1");
        var cluster = new ClusterProcesses();
        await cluster.ExecuteAsync($"CREATE SCHEMA {cluster._schema}");
        return cluster;
    }

    public Process Start(string cluster, string role, int siloPort, int primaryPort, params string[] more)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "whet.dll"), "serve", "--models", TinyModel.ModelDirectory, "--data", _data.Path,
                "--db", Database, "--cluster", cluster, "--role", role, "--silo-port", $"{siloPort}", "--primary-silo-port", $"{primaryPort}" },
        };
        foreach (var arg in more) start.ArgumentList.Add(arg);
        start.Environment["WHET_ADMIN_KEY"] = AdminKey;
        var process = Process.Start(start)!;
        _processes.Add(process);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>A gateway serving HTTP on <paramref name="http"/> and one worker, both up.</summary>
    public async Task StartGatewayAndWorkerAsync(string cluster, int http)
    {
        int primary = FreePortPair(), worker = FreePortPair();
        await WaitForOutputAsync(Start(cluster, "gateway", primary, primary, "--urls", $"http://127.0.0.1:{http}"), "whetstone gateway silo");
        await WaitForOutputAsync(Start(cluster, "worker", worker, primary), "whetstone worker silo");
    }

    /// <summary>SIGTERM to each running process, workers before the gateway (the last started
    /// first), each given a bounded time to shut down.</summary>
    public async Task StopAllAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes).Where(p => !p.HasExited))
        {
            using (var kill = Process.Start("kill", ["-TERM", $"{process.Id}"])!) await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try { await process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { Assert.Fail($"process {process.Id} did not exit within 60 s of SIGTERM"); }
        }
    }

    public static async Task WaitForOutputAsync(Process process, string line)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } text)
            if (text.Contains(line)) return;
        throw new InvalidOperationException($"the process exited (code {(process.HasExited ? process.ExitCode : -1)}) before printing '{line}'");
    }

    /// <summary>A LoRA run on the tiny model, retried while no worker has reported the base model yet.</summary>
    public static async Task<TrainingClient> CreateWhenWorkerReportedAsync(ServiceClient client, int seed)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try { return await client.CreateLoraTrainingClientAsync(Path.GetFileName(TinyModel.ModelDirectory), rank: 4, seed: seed); }
            catch (WhetstoneApiException e) when (e.Field == "base_model" && DateTime.UtcNow < deadline) { await Task.Delay(500); }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // A silo uses its port and the next (its Orleans gateway).
    public static int FreePortPair()
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

    async Task ExecuteAsync(string sql)
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
        await ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
        _data.Dispose();
    }
}
