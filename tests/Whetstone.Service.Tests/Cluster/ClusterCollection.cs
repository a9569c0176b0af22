namespace Whetstone.Service.Tests.Cluster;

/// <summary>The cluster tests run one at a time, after the parallel ones: each starts several
/// silos, and run in parallel with each other on a 2-core machine at load 40+ the whole set
/// once did not finish within 15 minutes (cause not found), while run alone it takes about 3.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster (one at a time)";
}
