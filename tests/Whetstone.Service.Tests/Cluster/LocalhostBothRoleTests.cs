using System.Net;
using System.Net.Sockets;
using Whetstone.Service.Cluster;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>`whet serve --cluster localhost` with the default role (both): one process that is
/// gateway and worker trains a run whose grain it holds itself. Needs no PostgreSQL, so CI runs
/// the case of issue #19 even where WHET_SKIP_POSTGRES=1 skips its PostgreSQL twin.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LocalhostBothRoleTests
{
    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task ARunTrainsOnALocalhostSiloThatIsGatewayAndWorker()
    {
        int siloPort = FreePort();
        var settings = new ClusterSettings
        {
            Membership = "localhost",
            Role = ClusterRole.Both,
            SiloPort = siloPort,
            PrimarySiloPort = siloPort,
            GatewayPort = FreePort(),
            ClusterId = "whet_both_" + Guid.NewGuid().ToString("N"),
            ReportInterval = TimeSpan.FromMilliseconds(200),
        };
        await using var both = await ClusterServer.StartAsync(TestServers.Options(TestServers.NewDataDirectory()), settings);
        await BothRoleTraining.TrainsAsync(both);
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
