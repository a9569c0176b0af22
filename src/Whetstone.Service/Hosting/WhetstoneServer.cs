using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Hosting;

/// <summary>The training service as a web application on Kestrel (the app itself, its routes and
/// middleware, is <see cref="WhetstoneApp"/>), with the checkpoint expiry sweep. `whet serve` runs it; tests
/// start it on a loopback port.</summary>
public sealed class WhetstoneServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ServiceCore _core;
    readonly CancellationTokenSource _stop = new();
    Task? _sweeper;

    public ServerOptions Options { get; }
    /// <summary>Set when this start created the admin key: shown once, never stored in clear.</summary>
    public string? CreatedAdminKey { get; private set; }
    public IReadOnlyList<string> Urls => _app.Urls.ToArray();
    public ServiceCore Core => _core;

    WhetstoneServer(WebApplication app, ServiceCore core, ServerOptions options)
    {
        _app = app;
        _core = core;
        Options = options;
    }

    public static async Task<WhetstoneServer> StartAsync(ServerOptions options)
    {
        var core = await ServiceCore.CreateAsync(options);
        StartupTrace.Mark("service core created");
        var app = WhetstoneApp.Build(core, builder => builder.WebHost.UseUrls([.. options.Urls]));
        Cluster.ClusterInfoApi.MapNoClusterInfoApi(app);
        StartupTrace.Mark("host built");
        var server = new WhetstoneServer(app, core, options);
        server.CreatedAdminKey = await AdminKeys.EnsureAsync(core.Store, options.AdminKey);
        await app.StartAsync();
        StartupTrace.Mark("host started (HTTP)");
        server._sweeper = server.SweepExpiredAsync(core.Checkpoints);
        return server;
    }

    async Task SweepExpiredAsync(CheckpointService checkpoints)
    {
        using var timer = new PeriodicTimer(Options.ExpirySweepInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try { await checkpoints.ExpireAsync(DateTimeOffset.UtcNow); }
                catch (Exception e) { _core.Context.Logger.LogError(e, "expiring checkpoints"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_sweeper is not null) await _sweeper;
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _core.DisposeAsync();
    }
}
