namespace Whetstone.Service.Cluster;

/// <summary>The grain storage the cluster's grains keep their state in.</summary>
internal static class ClusterStorage
{
    public const string Name = "whetstone";
}
