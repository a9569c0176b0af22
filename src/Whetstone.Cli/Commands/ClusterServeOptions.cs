using System.CommandLine;
using Whetstone.Service.Cluster;
using Whetstone.Service.Hosting;

namespace Whetstone.Cli.Commands;

/// <summary>`whet serve`'s cluster options (issue #19). By default the process is a one-silo
/// localhost cluster in role both, on a free silo port, so two servers on one machine never
/// collide or join each other; --cluster none serves without a silo.</summary>
internal static class ClusterServeOptions
{
    public static (Option<string?> Cluster, Option<string> Role, Option<int> SiloPort, Option<int> PrimaryPort, Option<string> Advertise) Create() => (
        new Option<string?>("--cluster")
        {
            Description = "Orleans cluster: 'localhost' (the default: one machine; alone, this process is a one-silo cluster of role both), "
                + "a PostgreSQL connection string (membership and grain state there), or 'none' (no silo: the process serves everything itself)",
            DefaultValueFactory = _ => "localhost",
        },
        new Option<string>("--role") { Description = "Cluster role: gateway (HTTP APIs, no models), worker (hosts the models' runs, no HTTP) or both", DefaultValueFactory = _ => "both" },
        new Option<int>("--silo-port") { Description = "This silo's port (its Orleans gateway port is the next one); default: a free port, and no Orleans gateway" },
        new Option<int>("--primary-silo-port") { Description = "With --cluster localhost: the port of the first silo, which every silo joins through; default: this silo is the first" },
        new Option<string>("--advertise-address") { Description = "With --cluster <PostgreSQL>: the IP address other machines reach this silo at", DefaultValueFactory = _ => "127.0.0.1" });

    public static async Task<int> RunAsync(ParseResult result, ServerOptions options, Option<string?> cluster, Option<string> role,
        Option<int> siloPort, Option<int> primaryPort, Option<string> advertise, CancellationToken cancellationToken)
    {
        ClusterSettings settings;
        try
        {
            int port = result.GetValue(siloPort);
            if (port is < 0 or > 65534) throw new ArgumentException($"--silo-port: {port} must be 1 to 65534 (its gateway takes the next port), or 0 for a free port");
            settings = new ClusterSettings
            {
                Membership = result.GetValue(cluster)!,
                Role = ClusterRoles.Parse(result.GetValue(role)),
                SiloPort = port,
                GatewayPort = port == 0 ? 0 : port + 1,
                PrimarySiloPort = result.GetValue(primaryPort),
                AdvertisedAddress = System.Net.IPAddress.TryParse(result.GetValue(advertise), out var address) ? address
                    : throw new ArgumentException($"--advertise-address '{result.GetValue(advertise)}' is not an IP address"),
            };
        }
        catch (ArgumentException e) { return CommandErrors.Fail(CommandErrors.BadArguments, e.Message); }
        ClusterServer server;
        try { server = await ClusterServer.StartAsync(options, settings); }
        catch (InvalidOperationException e) { return CommandErrors.Fail(CommandErrors.BadArguments, e.Message); }
        catch (System.Data.Common.DbException e) { return CommandErrors.Fail(CommandErrors.BadArguments, $"--cluster: the PostgreSQL database refused: {e.Message}"); }
        await using var _ = server;
        if (server.CreatedAdminKey is string key)
            Console.WriteLine($"admin API key (shown once; set WHET_ADMIN_KEY to choose your own): {key}");
        string where = server.Urls.Count > 0 ? $"on {string.Join(", ", server.Urls)}" : "(no HTTP: worker)";
        Console.WriteLine($"whetstone {settings.Role.ToString().ToLowerInvariant()} silo on port {server.Settings.SiloPort} of cluster {(settings.IsLocalhost ? "localhost" : "on PostgreSQL")}, " +
            $"models {string.Join(", ", options.ModelDirectories.Select(Path.GetFileName))} {where} (data: {Path.GetFullPath(options.DataDirectory)})");
        await Task.WhenAny(server.WaitForShutdownAsync(), Task.Delay(Timeout.Infinite, cancellationToken));
        return 0;
    }
}
