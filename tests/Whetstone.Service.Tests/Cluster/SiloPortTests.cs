using System.Net;
using System.Net.Sockets;
using Whetstone.Service.Cluster;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>`whet serve`'s default silo port is a free one, chosen at start. A port found free can
/// be taken by another process before the silo binds it (tests start many servers at once): the
/// server then chooses another instead of failing, and is its own localhost primary with no
/// Orleans client gateway.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SiloPortTests
{
    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task APortTakenBeforeTheSiloBindsItIsChosenAgain()
    {
        using var taken = new TcpListener(IPAddress.Any, 0);
        taken.Start();
        int takenPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var offered = new Queue<int>([takenPort, ClusterSettings.FreePort()]);
        int second = offered.Last();
        var settings = new ClusterSettings { Membership = "localhost", ClusterId = "whet_ports_" + Guid.NewGuid().ToString("N") };

        await using var server = await ClusterServer.StartAsync(TestServers.Options(TestServers.NewDataDirectory()), settings, () => offered.Dequeue());

        Assert.Empty(offered);
        Assert.Equal(second, server.Settings.SiloPort);
        Assert.Equal(second, server.Settings.PrimarySiloPort);
        Assert.Equal(0, server.Settings.GatewayPort);
        Assert.Single(server.Urls);
    }
}
