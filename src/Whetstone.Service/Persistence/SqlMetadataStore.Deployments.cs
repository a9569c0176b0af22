using System.Data.Common;

namespace Whetstone.Service.Persistence;

// Deployment aliases (name@latest, name@vN) and their versions.
public abstract partial class SqlMetadataStore
{
    /// <summary>False if the tenant already has a deployment of that name.</summary>
    public async Task<bool> InsertDeploymentAsync(DeploymentRecord d, CancellationToken cancellationToken = default) =>
        await ExecuteAsync(
            """
            INSERT INTO deployments (tenant, name, created_at, current_version) VALUES (@tenant, @name, @created, @current)
            ON CONFLICT (tenant, name) DO NOTHING
            """,
            cancellationToken, ("@tenant", d.Tenant), ("@name", d.Name), ("@created", Timestamp(d.CreatedAt)), ("@current", d.CurrentVersion)) > 0;

    public Task<DeploymentRecord?> GetDeploymentAsync(string tenant, string name, CancellationToken cancellationToken = default) =>
        QuerySingleAsync("SELECT tenant, name, created_at, current_version, candidate_version, candidate_percent FROM deployments WHERE tenant = @tenant AND name = @name",
            ReadDeployment, cancellationToken, ("@tenant", tenant), ("@name", name));

    public Task<IReadOnlyList<DeploymentRecord>> ListDeploymentsAsync(string tenant, CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT tenant, name, created_at, current_version, candidate_version, candidate_percent FROM deployments WHERE tenant = @tenant ORDER BY name",
            ReadDeployment, cancellationToken, ("@tenant", tenant));

    /// <summary>Adds the next version (1, 2, …) of an existing deployment and makes it current, in
    /// one transaction; returns its number.</summary>
    public async Task<int> PromoteDeploymentAsync(string tenant, string name, string checkpointPath, DateTimeOffset at,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int version;
        // The single INSERT … SELECT … RETURNING reads and writes atomically (SQLite takes the write
        // lock at the insert; on PostgreSQL a concurrent promote fails on the primary key, not silently).
        await using (var insert = CreateCommand(connection, transaction,
            """
            INSERT INTO deployment_versions (tenant, name, version, checkpoint_path, created_at)
            SELECT @tenant, @name, COALESCE(MAX(version), 0) + 1, @path, @at FROM deployment_versions WHERE tenant = @tenant AND name = @name
            RETURNING version
            """,
            [("@tenant", tenant), ("@name", name), ("@path", checkpointPath), ("@at", Timestamp(at))]))
            version = Convert.ToInt32(await insert.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        await ExecuteAsync(connection, transaction, "UPDATE deployments SET current_version = @version WHERE tenant = @tenant AND name = @name",
            cancellationToken, ("@version", version), ("@tenant", tenant), ("@name", name));
        await transaction.CommitAsync(cancellationToken);
        return version;
    }

    /// <summary>Points name@latest at an existing version; false if no such deployment.</summary>
    public async Task<bool> SetDeploymentVersionAsync(string tenant, string name, int version, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE deployments SET current_version = @version WHERE tenant = @tenant AND name = @name",
            cancellationToken, ("@version", version), ("@tenant", tenant), ("@name", name)) > 0;

    /// <summary>A deployment's versions, oldest first.</summary>
    public Task<IReadOnlyList<DeploymentVersionRecord>> ListDeploymentVersionsAsync(string tenant, string name, CancellationToken cancellationToken = default) =>
        QueryAsync(
            "SELECT tenant, name, version, checkpoint_path, created_at FROM deployment_versions WHERE tenant = @tenant AND name = @name ORDER BY version",
            r => new DeploymentVersionRecord(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), ReadTimestamp(r, 4)),
            cancellationToken, ("@tenant", tenant), ("@name", name));

    private DeploymentRecord ReadDeployment(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), ReadTimestamp(r, 2), r.GetInt32(3))
        {
            CandidateVersion = r.IsDBNull(4) ? null : r.GetInt32(4),
            CandidatePercent = r.IsDBNull(5) ? 0 : r.GetDouble(5),
        };
}
