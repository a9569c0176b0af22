namespace Whetstone.Protocol;

/// <summary>Create a deployment alias; with a checkpoint, that checkpoint becomes version 1.</summary>
public sealed record CreateDeploymentRequest(string Name)
{
    public string? Checkpoint { get; init; }
}

/// <summary>Make a sampler checkpoint the next version and point name@latest at it.</summary>
public sealed record PromoteDeploymentRequest(string Checkpoint);

/// <summary>Point name@latest at an earlier version; null = the version before the current one.</summary>
public sealed record RollbackDeploymentRequest
{
    public int? Version { get; init; }
}

/// <summary>A deployment: name@latest answers with CurrentVersion (0 = no version yet); name@vN with version N.</summary>
public sealed record DeploymentInfo(string Name, int CurrentVersion, IReadOnlyList<DeploymentVersionInfo> Versions)
{
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The canary split of name@latest, if any (see <see cref="SetDeploymentTrafficRequest"/>).</summary>
    public int? CandidateVersion { get; init; }
    public double CandidatePercent { get; init; }
}

public sealed record DeploymentVersionInfo(int Version, string Checkpoint, DateTimeOffset CreatedAt);

public sealed record DeploymentList(IReadOnlyList<DeploymentInfo> Deployments);
