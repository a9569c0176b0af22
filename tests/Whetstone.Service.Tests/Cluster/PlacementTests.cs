using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>Run grains land on a worker that hosts their base model, the least loaded one; a
/// model no worker hosts is refused naming the field.</summary>
[Collection(ClusterCollection.Name)]
public class PlacementTests
{
    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task RunsArePlacedOnWorkersHostingTheirBaseModelByLoad()
    {
        await using var cluster = await TestWorkers.StartAsync([TestWorkers.ModelA], [TestWorkers.ModelA], [TestWorkers.ModelB]);
        using var client = await cluster.ClientAsync("dana");

        var onB = await client.CreateLoraTrainingClientAsync(TestWorkers.ModelB, rank: 4, seed: 1);
        Assert.Equal(cluster.SiloOf(3), await cluster.WhereAsync(TestWorkers.ModelB, onB.RunId));
        Assert.Equal(1, cluster.CoreOf(cluster.SiloOf(3)).Runs.LiveCount);

        // Two runs on A: the second goes to the other A worker (the first is busier by one run).
        var first = await client.CreateLoraTrainingClientAsync(TestWorkers.ModelA, rank: 4, seed: 2);
        var second = await client.CreateLoraTrainingClientAsync(TestWorkers.ModelA, rank: 4, seed: 3);
        var places = new[] { await cluster.WhereAsync(TestWorkers.ModelA, first.RunId), await cluster.WhereAsync(TestWorkers.ModelA, second.RunId) };
        Assert.Equal(new[] { cluster.SiloOf(1), cluster.SiloOf(2) }.OrderBy(s => s.ToString()), places.OrderBy(s => s.ToString()));
        Assert.Equal(1, cluster.CoreOf(cluster.SiloOf(1)).Runs.LiveCount);
        Assert.Equal(1, cluster.CoreOf(cluster.SiloOf(2)).Runs.LiveCount);
        Assert.Equal(0, cluster.Gateway.Runs.LiveCount);   // the gateway holds no run

        // A call through the gateway reaches the run's worker and comes back with its result.
        var fb = await (await first.ForwardBackwardAsync([Datums.ForCrossEntropy([5, 9, 13, 17, 21])], "cross_entropy")).ResultAsync();
        Assert.True(fb.Metrics["loss:sum"] > 0);

        var refused = await Assert.ThrowsAsync<WhetstoneApiException>(() => client.CreateLoraTrainingClientAsync("no-such-model", rank: 4));
        Assert.Equal("base_model", refused.Error.Field);

        // Another tenant cannot reach the run through the cluster either.
        using var other = await cluster.ClientAsync("eve");
        var hidden = await Assert.ThrowsAsync<WhetstoneApiException>(() => other.CreateRestClient().GetTrainingRunAsync(first.RunId));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, hidden.StatusCode);
    }
}
