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

    public static async Task<ClusterServer> StartAsync(ServerOptions options, ClusterSettings settings)
    {
        string? postgres = ClusterSilo.Postgres(settings);
        if (postgres is not null) await OrleansSchema.EnsureAsync(postgres);
        // Loops are advanced by their loop grains, one worker each, not by every process's runner.
        var core = await ServiceCore.CreateAsync(options with { LoopTickInterval = TimeSpan.Zero });
        void Silo(ISiloBuilder silo)
        {
            silo.UseMembership(settings, postgres);
            silo.AddWhetstone(core, settings.Role, settings.ReportInterval, postgres, options.LoopTickInterval);
        }
        IHost host;
        if (settings.Role.ServesHttp())
        {
            var app = WhetstoneApp.Build(core, builder =>
            {
                builder.WebHost.UseUrls([.. options.Urls]);
                builder.UseOrleans(Silo);
            });
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            core.RunCalls = new ClusterRunCalls(grains, core.Context);
            core.CompletionCalls = new ClusterCompletionCalls(grains, core);
            core.SamplingCalls = new ClusterSamplingCalls(grains, core.Context);
            core.ClusterMetrics = new ClusterMetrics(grains, app.Services.GetRequiredService<Orleans.Runtime.IClusterMembershipService>());
            host = app;
        }
        else
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.UseOrleans(Silo);
            host = builder.Build();
        }
        var server = new ClusterServer(host, core, settings);
        if (settings.Role.ServesHttp()) server.CreatedAdminKey = await AdminKeys.EnsureAsync(core.Store, options.AdminKey);
        await host.StartAsync();
        return server;
    }

    public Task WaitForShutdownAsync() => _host.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _core.DisposeAsync();
    }
}
