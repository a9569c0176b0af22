namespace Whetstone.Service.Persistence;

// Canary traffic splits of deployments: a candidate version that answers a share of name@latest.
public abstract partial class SqlMetadataStore
{
    /// <summary>Adds the next version of a deployment without making it current (a canary
    /// candidate; promoted later by <see cref="PromoteDeploymentCandidateAsync"/>).</summary>
    public async Task<int> AddDeploymentVersionAsync(string tenant, string name, string checkpointPath, DateTimeOffset at,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var insert = CreateCommand(connection, null,
            """
            INSERT INTO deployment_versions (tenant, name, version, checkpoint_path, created_at)
            SELECT @tenant, @name, COALESCE(MAX(version), 0) + 1, @path, @at FROM deployment_versions WHERE tenant = @tenant AND name = @name
            RETURNING version
            """,
            [("@tenant", tenant), ("@name", name), ("@path", checkpointPath), ("@at", Timestamp(at))]);
        return Convert.ToInt32(await insert.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<bool> SetDeploymentTrafficAsync(string tenant, string name, int? candidateVersion, double percent,
        CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE deployments SET candidate_version = @version, candidate_percent = @percent WHERE tenant = @tenant AND name = @name",
            cancellationToken, ("@version", candidateVersion), ("@percent", candidateVersion is null ? null : percent),
            ("@tenant", tenant), ("@name", name)) > 0;

    // One statement: a request resolving the alias sees either the split or the promoted candidate, never neither.
    public async Task<bool> PromoteDeploymentCandidateAsync(string tenant, string name, CancellationToken cancellationToken = default) =>
        await ExecuteAsync(
            """
            UPDATE deployments SET current_version = candidate_version, candidate_version = NULL, candidate_percent = NULL
            WHERE tenant = @tenant AND name = @name AND candidate_version IS NOT NULL
            """,
            cancellationToken, ("@tenant", tenant), ("@name", name)) > 0;
}
