using Orleans;
using Orleans.Runtime;

namespace Whetstone.Service.Cluster;

/// <summary>Which worker silos host which base models, and how loaded each is: the one place the
/// run placement director asks. One activation for the cluster (key 0).</summary>
[Alias("whetstone.directory")]
internal interface IBaseModelDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>A worker's periodic report: the base models it hosts and its live runs.</summary>
    [Alias("report")] Task Report(SiloAddress worker, string[] baseModels, int liveRuns);

    /// <summary>The least-loaded of <paramref name="candidates"/> (the silos alive now) that hosts
    /// <paramref name="baseModel"/>, counted as one run busier at once; null: none hosts it.</summary>
    [Alias("pick")] Task<SiloAddress?> Pick(string baseModel, SiloAddress[] candidates);

    /// <summary>The workers that reported hosting <paramref name="baseModel"/> recently.</summary>
    [Alias("hosts")] Task<WorkerLoad[]> Hosts(string baseModel);

    /// <summary>The base models each worker reported last, keyed by silo, as kept in grain
    /// storage: it outlives the directory's own silo (PostgreSQL in a PostgreSQL cluster). Says
    /// nothing of liveness.</summary>
    [Alias("known")] Task<Dictionary<string, string[]>> Known();
}

/// <summary>One worker's standing in the directory.</summary>
[GenerateSerializer, Immutable, Alias("whetstone.worker_load")]
internal sealed record WorkerLoad([property: Id(0)] SiloAddress Worker, [property: Id(1)] int LiveRuns, [property: Id(2)] int PlacedSinceReport);
