using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>Canary splits of a deployment (see <see cref="SetDeploymentTrafficRequest"/>).</summary>
public static class DeploymentTraffic
{
    /// <summary>Sends <paramref name="percent"/>% of name@latest's requests (by user, else seed) to <paramref name="candidateVersion"/>.</summary>
    public static Task<DeploymentInfo> SplitAsync(this DeploymentsClient deployments, string name, int candidateVersion, double percent,
        CancellationToken cancellationToken = default) =>
        deployments.SetTrafficAsync(name, new SetDeploymentTrafficRequest { CandidateVersion = candidateVersion, Percent = percent }, cancellationToken);

    /// <summary>Ends the split: everyone gets the current version.</summary>
    public static Task<DeploymentInfo> ClearSplitAsync(this DeploymentsClient deployments, string name, CancellationToken cancellationToken = default) =>
        deployments.SetTrafficAsync(name, new SetDeploymentTrafficRequest(), cancellationToken);
}
