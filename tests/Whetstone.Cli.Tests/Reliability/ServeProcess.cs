using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Whetstone.Cli.Tests.Reliability;

/// <summary>A real `whet serve` in its own process (the whet.dll beside the tests, run by the
/// same dotnet), on a free loopback port, which a test can SIGKILL.</summary>
internal sealed class ServeProcess : IDisposable
{
    public const string AdminKey = "whet_serve_process_admin";
    readonly Process _process;
    public Uri Url { get; }

    ServeProcess(Process process, Uri url) => (_process, Url) = (process, url);

    public static async Task<ServeProcess> StartAsync(string modelDirectory, string dataDirectory, params string[] extra)
    {
        int port = FreePort();
        var url = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "whet.dll"), "serve", "--models", modelDirectory, "--data", dataDirectory,
                     "--urls", url.ToString().TrimEnd('/'), "--dtype", "fp32", .. extra])
            start.ArgumentList.Add(a);
        start.Environment["WHET_ADMIN_KEY"] = AdminKey;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var serve = new ServeProcess(process, url);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"whet serve exited with {process.ExitCode} before answering");
            try
            {
                if ((await http.GetAsync(new Uri(url, "/healthz"))).IsSuccessStatusCode) return serve;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) { serve.Kill(); throw new TimeoutException("whet serve did not answer /healthz within 120 s"); }
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no shutdown code of the server runs.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill();   // SIGKILL on Linux
        _process.WaitForExit();
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
