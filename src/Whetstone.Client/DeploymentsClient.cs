using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// Deployment aliases: a stable name whose name@latest answers with the version promoted last
/// (or rolled back to), name@vN with version N. Promote a sampler checkpoint
/// (whet://…/sampler_weights/…) to add a version; roll back to point name@latest at an earlier one.
/// Requests resolve the alias when they arrive, so a change applies to the next request.
/// </summary>
public sealed class DeploymentsClient
{
    readonly ITransport _transport;

    internal DeploymentsClient(ITransport transport) => _transport = transport;

    /// <summary>A new deployment; with <paramref name="checkpoint"/>, that checkpoint is version 1.</summary>
    public Task<DeploymentInfo> CreateAsync(string name, string? checkpoint = null, CancellationToken cancellationToken = default) =>
        _transport.PostAsync<CreateDeploymentRequest, DeploymentInfo>(Routes.Deployments, new CreateDeploymentRequest(name) { Checkpoint = checkpoint }, cancellationToken);

    public Task<DeploymentInfo> GetAsync(string name, CancellationToken cancellationToken = default) =>
        _transport.GetAsync<DeploymentInfo>(Routes.Deployment(Escape(name)), cancellationToken);

    public async Task<IReadOnlyList<DeploymentInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        (await _transport.GetAsync<DeploymentList>(Routes.Deployments, cancellationToken).ConfigureAwait(false)).Deployments;

    /// <summary>Makes <paramref name="checkpoint"/> the next version and points name@latest at it.</summary>
    public Task<DeploymentInfo> PromoteAsync(string name, string checkpoint, CancellationToken cancellationToken = default) =>
        _transport.PostAsync<PromoteDeploymentRequest, DeploymentInfo>(Routes.DeploymentPromote(Escape(name)), new PromoteDeploymentRequest(checkpoint), cancellationToken);

    /// <summary>Points name@latest at <paramref name="version"/>, or (null) at the version before the current one.</summary>
    public Task<DeploymentInfo> RollbackAsync(string name, int? version = null, CancellationToken cancellationToken = default) =>
        _transport.PostAsync<RollbackDeploymentRequest, DeploymentInfo>(Routes.DeploymentRollback(Escape(name)), new RollbackDeploymentRequest { Version = version }, cancellationToken);

    /// <summary>Every version, oldest first: the checkpoint each serves and when it was promoted.</summary>
    public async Task<IReadOnlyList<DeploymentVersionInfo>> VersionsAsync(string name, CancellationToken cancellationToken = default) =>
        (await GetAsync(name, cancellationToken).ConfigureAwait(false)).Versions;

    /// <summary>Sets or clears the canary split of name@latest (see also <see cref="DeploymentTraffic"/>).</summary>
    public Task<DeploymentInfo> SetTrafficAsync(string name, SetDeploymentTrafficRequest request, CancellationToken cancellationToken = default) =>
        _transport.PostAsync<SetDeploymentTrafficRequest, DeploymentInfo>(Routes.DeploymentTraffic(Escape(name)), request, cancellationToken);

    static string Escape(string name) => Uri.EscapeDataString(name);
}
