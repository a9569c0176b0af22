namespace Whetstone.Service.Cluster;

/// <summary>How a process joins the cluster (`whet serve --cluster … --role …`).</summary>
public sealed record ClusterSettings
{
    /// <summary>"localhost" (one machine, membership in memory of the first silo) or a PostgreSQL
    /// connection string (postgres://… or key=value): membership and grain state live there.</summary>
    public required string Membership { get; init; }
    public ClusterRole Role { get; init; } = ClusterRole.Both;
    /// <summary>Silo-to-silo port (0: a free one). Localhost clustering needs fixed ports.</summary>
    public int SiloPort { get; init; } = 11111;
    /// <summary>The first silo's port, for localhost membership (every silo of the machine finds it there).</summary>
    public int PrimarySiloPort { get; init; } = 11111;
    /// <summary>The address other silos reach this one at (PostgreSQL membership).</summary>
    public System.Net.IPAddress AdvertisedAddress { get; init; } = System.Net.IPAddress.Loopback;
    /// <summary>Port of Orleans clients (none are used; kept for tools such as the dashboard).</summary>
    public int GatewayPort { get; init; } = 30000;
    /// <summary>Silos with the same cluster id form one cluster.</summary>
    public string ClusterId { get; init; } = "whetstone";
    /// <summary>How often a worker tells the directory its models and load.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(2);

    public bool IsLocalhost => Membership.Equals("localhost", StringComparison.OrdinalIgnoreCase);
}
