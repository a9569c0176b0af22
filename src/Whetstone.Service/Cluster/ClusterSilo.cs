using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Serialization;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Cluster;

/// <summary>What every Whetstone silo has: its service core (store, base models, engine workers),
/// the run placement director, the protocol records' serializer, the grain storage, and on
/// workers the directory reports. Membership is set apart (<see cref="UseMembership"/>) so tests
/// can use Orleans' test cluster membership.</summary>
internal static class ClusterSilo
{
    /// <param name="loopTick">How often loops are advanced (<see cref="ClusterTicker"/>); zero: never
    /// (the cores' own loop runners stay off in a cluster, see <see cref="ILoopGrain"/>).</param>
    public static void AddWhetstone(this ISiloBuilder silo, ServiceCore core, ClusterRole role, TimeSpan reportInterval, string? postgres,
        TimeSpan loopTick = default)
    {
        silo.Services.AddSingleton(core);
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloStartupTrace>();
        silo.Services.AddSingleton<RunGrainCount>();
        silo.Services.AddPlacementDirector<BaseModelPlacementStrategy, BaseModelPlacementDirector>();
        silo.Services.AddPlacementDirector<SiloPinnedPlacementStrategy, SiloPinnedPlacementDirector>();
        silo.Services.AddProtocolSerializer();
        if (postgres is null) silo.AddMemoryGrainStorage(ClusterStorage.Name);
        else silo.AddAdoNetGrainStorage(ClusterStorage.Name, o => { o.Invariant = AdoNetInvariant; o.ConnectionString = postgres; });
        // Registered as IHostedService singletons: AddHostedService keeps one service per type, and both are ClusterTickers.
        silo.Services.AddSingleton<IHostedService>(sp => new ClusterTicker("expiry sweep", core.ExpirySweepInterval,
            interval => sp.GetRequiredService<IGrainFactory>().GetGrain<IExpirySweepGrain>(0).SweepIfDue(interval), sp.GetRequiredService<ILogger<ClusterTicker>>()));
        if (loopTick > TimeSpan.Zero)
            silo.Services.AddSingleton<IHostedService>(sp => new ClusterTicker("loop tick", loopTick,
                interval => sp.GetRequiredService<IGrainFactory>().GetGrain<ILoopTickGrain>(0).TickIfDue(interval), sp.GetRequiredService<ILogger<ClusterTicker>>()));
        if (role.HostsModels())
            silo.Services.AddHostedService(sp => new WorkerReporter(core, sp.GetRequiredService<RunGrainCount>(), sp.GetRequiredService<ILocalSiloDetails>(),
                sp.GetRequiredService<IGrainFactory>(), reportInterval, sp.GetRequiredService<ILogger<WorkerReporter>>()));
    }

    /// <summary>Localhost membership (one machine; the first silo on <see cref="ClusterSettings.SiloPort"/>
    /// is the primary) or PostgreSQL membership through ADO.NET.</summary>
    public static void UseMembership(this ISiloBuilder silo, ClusterSettings settings, string? postgres)
    {
        if (postgres is null)
        {
            silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, new IPEndPoint(IPAddress.Loopback, settings.PrimarySiloPort),
                serviceId: settings.ClusterId, clusterId: settings.ClusterId);
            // One machine: a silo that stops answering is gone, not slow; declare it dead in seconds.
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
            return;
        }
        silo.UseAdoNetClustering(o => { o.Invariant = AdoNetInvariant; o.ConnectionString = postgres; });
        silo.Configure<ClusterOptions>(o => { o.ClusterId = settings.ClusterId; o.ServiceId = settings.ClusterId; });
        silo.ConfigureEndpoints(settings.AdvertisedAddress, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
    }

    /// <summary>The PostgreSQL connection string of a cluster setting, or null for localhost.</summary>
    public static string? Postgres(ClusterSettings settings) => settings.IsLocalhost ? null
        : PostgresConnectionString.IsUri(settings.Membership) ? PostgresConnectionString.FromUri(settings.Membership) : settings.Membership;

    /// <summary>Request and result records cross silos as their own JSON (the protocol's), never
    /// tensors. Silos and any Orleans client of the cluster need it.</summary>
    public static void AddProtocolSerializer(this IServiceCollection services) =>
        services.AddSerializer(s => s.AddJsonSerializer(IsProtocolRecord, ProtocolJson.Options));

    public const string AdoNetInvariant = "Npgsql";

    static bool IsProtocolRecord(Type type) =>
        type.Namespace is { } ns && (ns == "Whetstone.Protocol" || ns.StartsWith("Whetstone.Protocol.", StringComparison.Ordinal))
        || type == typeof(Auth.Caller);
}
