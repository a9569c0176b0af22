using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Whetstone.Protocol;

namespace Whetstone.Service.Cluster;

/// <summary>GET /api/v1/cluster: which cluster this server is in, its own silo and every silo the
/// membership lists, with the base models the directory knows each hosts. It shows that
/// `whet serve` alone is a one-silo cluster, and that two servers on one machine are two
/// clusters, not one.</summary>
internal static partial class ClusterInfoApi
{
    /// <summary>The route on a server in a cluster (gateway or both).</summary>
    public static void MapClusterInfoApi(this IEndpointRouteBuilder app, ClusterSettings settings)
    {
        var membership = app.ServiceProvider.GetRequiredService<IClusterMembershipService>();
        var local = app.ServiceProvider.GetRequiredService<ILocalSiloDetails>();
        var grains = app.ServiceProvider.GetRequiredService<IGrainFactory>();
        string kind = settings.IsLocalhost ? "localhost" : "postgres";
        app.MapGet(ClusterRoutes.Info, async () =>
        {
            var known = await ClusterRunCalls.CallAsync(() => grains.GetGrain<IBaseModelDirectoryGrain>(0).Known());
            var silos = membership.CurrentSnapshot.Members.Values
                .OrderBy(m => m.SiloAddress.ToParsableString(), StringComparer.Ordinal)
                .Select(m => new ClusterMemberInfo(m.SiloAddress.ToParsableString(), StatusName(m.Status),
                    known.TryGetValue(m.SiloAddress.ToParsableString(), out var models) ? models : []))
                .ToArray();
            return Results.Json(new ClusterInfo(kind, local.SiloAddress.ToParsableString(), silos), ProtocolJson.Options);
        });
    }

    /// <summary>The route on a server started with `--cluster none`: no silo.</summary>
    public static void MapNoClusterInfoApi(this IEndpointRouteBuilder app) =>
        app.MapGet(ClusterRoutes.Info, () => Results.Json(new ClusterInfo("none", null, []), ProtocolJson.Options));

    /// <summary>ShuttingDown → shutting_down, as the protocol's other names.</summary>
    static string StatusName(SiloStatus status) => Words().Replace(status.ToString(), "$1_$2").ToLowerInvariant();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex Words();
}
