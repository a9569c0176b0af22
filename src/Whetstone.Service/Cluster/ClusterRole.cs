namespace Whetstone.Service.Cluster;

/// <summary>What one `whet serve` process does in a cluster. A gateway serves the HTTP APIs and
/// hosts no run; a worker hosts base models (one engine worker each) and the runs placed on them;
/// both does both (the single-machine case).</summary>
public enum ClusterRole { Gateway, Worker, Both }

public static class ClusterRoles
{
    public static ClusterRole Parse(string? text) => text?.ToLowerInvariant() switch
    {
        null or "" or "both" => ClusterRole.Both,
        "gateway" => ClusterRole.Gateway,
        "worker" => ClusterRole.Worker,
        _ => throw new ArgumentException($"--role '{text}' is not one of gateway, worker, both"),
    };

    public static bool HostsModels(this ClusterRole role) => role != ClusterRole.Gateway;
    public static bool ServesHttp(this ClusterRole role) => role != ClusterRole.Worker;
}
