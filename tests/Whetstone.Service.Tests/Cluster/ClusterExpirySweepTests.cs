using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>Under --cluster the checkpoint expiry sweep runs too (one sweep grain for the
/// cluster, asked by every silo): a checkpoint whose TTL passed is deleted, with its directory,
/// and one without a TTL stays.</summary>
[Collection(ClusterCollection.Name)]
public class ClusterExpirySweepTests
{
    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task ExpiredCheckpointsAreSweptInACluster()
    {
        await using var cluster = await TestWorkers.StartAsync([TestWorkers.ModelA]);
        using var client = await cluster.ClientAsync("gus");
        var run = await client.CreateLoraTrainingClientAsync(TestWorkers.ModelA, rank: 2, seed: 4);
        var kept = (await (await run.SaveStateAsync("kept")).ResultAsync()).Path;
        var brief = (await (await run.SaveWeightsForSamplerAsync("brief", TimeSpan.FromMilliseconds(300))).ResultAsync()).Path;
        var briefDirectory = (await cluster.Gateway.Store.GetCheckpointAsync(brief))!.Directory;
        Assert.True(Directory.Exists(briefDirectory));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        // The sweep deletes the record, then the directory: wait for both (the listing alone
        // once let the check below run between the two, at load average 30).
        while (DateTime.UtcNow < deadline
               && ((await client.ListCheckpointsAsync(run.RunId)).Checkpoints.Any(c => c.Path == brief) || Directory.Exists(briefDirectory)))
            await Task.Delay(100);
        Assert.Equal([kept], (await client.ListCheckpointsAsync(run.RunId)).Checkpoints.Select(c => c.Path));
        Assert.False(Directory.Exists(briefDirectory));
    }
}
