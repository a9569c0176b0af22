namespace Whetstone.Protocol;

/// <summary>GET /api/v1/cluster: the Orleans cluster the server belongs to. <see cref="Membership"/>
/// is "localhost" (`whet serve`'s default: alone, a one-silo cluster), "postgres", or "none"
/// (`--cluster none`: no silo, then <see cref="Silo"/> is null and <see cref="Silos"/> empty).</summary>
public sealed record ClusterInfo(string Membership, string? Silo, IReadOnlyList<ClusterMemberInfo> Silos);

/// <summary>One silo as the membership lists it: its address, status (joining, active, shutting_down,
/// stopping, dead) and the base models the directory knows it hosts (none for a gateway).</summary>
public sealed record ClusterMemberInfo(string Address, string Status, IReadOnlyList<string> BaseModels);

public static class ClusterRoutes
{
    public const string Info = Routes.Prefix + "/cluster";
}
