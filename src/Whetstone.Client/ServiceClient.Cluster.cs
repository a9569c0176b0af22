using Whetstone.Protocol;

namespace Whetstone.Client;

public sealed partial class ServiceClient
{
    /// <summary>The Orleans cluster the server belongs to: its membership kind, this server's silo and every silo listed.</summary>
    public Task<ClusterInfo> GetClusterInfoAsync(CancellationToken cancellationToken = default) =>
        _transport.GetAsync<ClusterInfo>(ClusterRoutes.Info, cancellationToken);
}
