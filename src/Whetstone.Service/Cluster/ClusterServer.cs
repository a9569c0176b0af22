using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Hosting;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Cluster;

/// <summary>`whet serve --cluster …`: this process's service core inside an Orleans silo. A
/// gateway (or both) also serves the HTTP app, whose run calls go to the run grains; a worker
/// serves no HTTP and hosts its base models' runs. Every process shares the metadata store
/// (--db) and the data directory (checkpoints), which must be the same mount on every machine.</summary>
public sealed class ClusterServer : IAsyncDisposable
{
    readonly IHost _host;
    readonly ServiceCore _core;

    public ClusterSettings Settings { get; }
    /// <summary>Set when this start created the admin key: shown once, never stored in clear.</summary>
    public string? CreatedAdminKey { get; private set; }
    /// <summary>The HTTP addresses served (none on a worker).</summary>
    public IReadOnlyList<string> Urls => _host is WebApplication app ? app.Urls.ToArray() : [];
    public ServiceCore Core => _core;
    internal IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    ClusterServer(IHost host, ServiceCore core, ClusterSettings settings)
    {
        _host = host;
        _core = core;
        Settings = settings;
    }

    public static Task<ClusterServer> StartAsync(ServerOptions options, ClusterSettings settings) =>
        StartAsync(options, settings, ClusterSettings.FreePort);

    /// <param name="freePort">Where a silo port comes from when <paramref name="settings"/> gives none.</param>
    internal static async Task<ClusterServer> StartAsync(ServerOptions options, ClusterSettings settings, Func<int> freePort)
    {
        string? postgres = ClusterSilo.Postgres(settings);
        if (postgres is not null) await OrleansSchema.EnsureAsync(postgres);
        // Loops are advanced by their loop grains, one worker each, not by every process's runner.
        var core = await ServiceCore.CreateAsync(options with { LoopTickInterval = TimeSpan.Zero });
        StartupTrace.Mark("service core created");
        string? adminKey = settings.Role.ServesHttp() ? await AdminKeys.EnsureAsync(core.Store, options.AdminKey) : null;
        for (int attempt = 1; ; attempt++)
        {
            var chosen = settings.WithPorts(freePort);
            var host = BuildHost(options, chosen, core, postgres);
            StartupTrace.Mark("host built");
            try
            {
                await host.StartAsync();
                StartupTrace.Mark("host started (silo and HTTP)");
                return new ClusterServer(host, core, chosen) { CreatedAdminKey = adminKey };
            }
            // A port found free is only free until someone binds it: another process may have taken
            // it before this silo did. Only a port chosen here is chosen again.
            catch (Exception e) when (settings.SiloPort == 0 && attempt < PortAttempts && IsAddressInUse(e))
            {
                core.Context.Logger.LogWarning("silo port {Port} was taken before the silo bound it; choosing another", chosen.SiloPort);
                await StopQuietlyAsync(host);
            }
            catch
            {
                await StopQuietlyAsync(host);
                await core.DisposeAsync();
                throw;
            }
        }
    }

    const int PortAttempts = 3;

    /// <summary>Stops a host whose start failed part-way; what it started is stopped, what it did not is nothing to stop.</summary>
    static async Task StopQuietlyAsync(IHost host)
    {
        try { await host.StopAsync(); }
        catch (Exception) { }
        host.Dispose();
    }

    static IHost BuildHost(ServerOptions options, ClusterSettings settings, ServiceCore core, string? postgres)
    {
        void Silo(ISiloBuilder silo)
        {
            silo.UseMembership(settings, postgres);
            silo.AddWhetstone(core, settings.Role, settings.ReportInterval, postgres, options.LoopTickInterval);
        }
        if (!settings.Role.ServesHttp())
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            QuietNotes(builder.Logging);
            builder.UseOrleans(Silo);
            return builder.Build();
        }
        var app = WhetstoneApp.Build(core, builder =>
        {
            builder.WebHost.UseUrls([.. options.Urls]);
            QuietNotes(builder.Logging);
            builder.UseOrleans(Silo);
        });
        app.MapClusterInfoApi(settings);
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        core.RunCalls = new ClusterRunCalls(grains, core.Context);
        core.CompletionCalls = new ClusterCompletionCalls(grains, core);
        core.SamplingCalls = new ClusterSamplingCalls(grains, core.Context);
        core.ClusterMetrics = new ClusterMetrics(grains, app.Services.GetRequiredService<Orleans.Runtime.IClusterMembershipService>());
        return app;
    }

    /// <summary>Every `whet serve` is a silo now: its start must not print Orleans' advice on server
    /// GC (Whetstone's cores are the engine workers') nor the watchdog's first-tick "not completed
    /// for N hours" (measured from the machine's boot); their errors still show.</summary>
    static void QuietNotes(ILoggingBuilder logging)
    {
        logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error);
        logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
    }

    static bool IsAddressInUse(Exception e) => e switch
    {
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => true,
        AggregateException a => a.InnerExceptions.Any(IsAddressInUse),
        { InnerException: { } inner } => IsAddressInUse(inner),
        _ => false,
    };

    public Task WaitForShutdownAsync() => _host.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _core.DisposeAsync();
    }
}
