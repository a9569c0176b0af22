namespace Whetstone.Service.Cluster;

/// <summary>How a process joins the cluster (`whet serve --cluster … --role …`). The defaults are
/// `whet serve`'s: a one-silo localhost cluster in role both, on a free port, with no Orleans
/// client gateway, so several servers on one machine never collide or join each other.</summary>
public sealed record ClusterSettings
{
    /// <summary>"localhost" (one machine, membership in memory of the first silo) or a PostgreSQL
    /// connection string (postgres://… or key=value): membership and grain state live there.</summary>
    public required string Membership { get; init; }
    public ClusterRole Role { get; init; } = ClusterRole.Both;
    /// <summary>Silo-to-silo port; 0: a free one, chosen at start (<see cref="ClusterServer.Settings"/> has it).</summary>
    public int SiloPort { get; init; }
    /// <summary>The first silo's port, for localhost membership (every silo of the machine finds it
    /// there); 0: this silo is the first.</summary>
    public int PrimarySiloPort { get; init; }
    /// <summary>The address other silos reach this one at (PostgreSQL membership).</summary>
    public System.Net.IPAddress AdvertisedAddress { get; init; } = System.Net.IPAddress.Loopback;
    /// <summary>Port of Orleans clients (none are used; kept for tools such as the dashboard); 0: none.</summary>
    public int GatewayPort { get; init; }
    /// <summary>Silos with the same cluster id form one cluster.</summary>
    public string ClusterId { get; init; } = "whetstone";
    /// <summary>How often a worker tells the directory its models and load.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(2);

    public bool IsLocalhost => Membership.Equals("localhost", StringComparison.OrdinalIgnoreCase);

    /// <summary>These settings with a free silo port where none was given, and the silo itself as
    /// the localhost primary where no primary was given.</summary>
    internal ClusterSettings WithPorts(Func<int> freePort)
    {
        int silo = SiloPort != 0 ? SiloPort : freePort();
        return this with { SiloPort = silo, PrimarySiloPort = PrimarySiloPort != 0 ? PrimarySiloPort : silo };
    }

    /// <summary>A port no socket of this machine is bound to now.</summary>
    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
