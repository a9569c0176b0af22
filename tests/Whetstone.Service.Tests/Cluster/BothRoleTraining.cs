using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Cluster;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>Training through the HTTP app of a process that is both gateway and worker
/// (`whet serve --cluster … --role both`, the default), whose run grain therefore lives in the
/// same process and hands the calls to the same service core the gateway tracks futures in.
/// Issue #19: that core's futures once got the gateway's follower of a call tracked over the
/// worker's own future under the same request id, so the future waited for itself and the test
/// hung forever. Every wait here is bounded and names what did not finish.</summary>
internal static class BothRoleTraining
{
    static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(120);

    public static async Task TrainsAsync(ClusterServer both)
    {
        var directory = both.Grains.GetGrain<IBaseModelDirectoryGrain>(0);
        await Bounded.WaitUntilAsync(async () => (await directory.Hosts(TestServers.ModelName)).Length == 1, CallLimit,
            $"the silo's report of {TestServers.ModelName} to the directory");
        var silo = (await directory.Hosts(TestServers.ModelName))[0].Worker;
        using var client = ServiceClient.Connect(await both.Core.InMemoryClientAsync("pat"));
        Datum[] batch = [Datums.ForCrossEntropy([5, 9, 13, 17, 21])];

        var run = await Bounded.WithinAsync(t => client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 5, cancellationToken: t),
            CallLimit, "create the run");
        // The case of the bug: the run grain is on this very silo.
        Assert.Equal(silo, await both.Grains.GetGrain<IRunGrain>(RunGrainKey.Of(TestServers.ModelName, run.RunId)).Where());

        var first = await Bounded.WithinAsync(async t => await (await run.ForwardBackwardAsync(batch, "cross_entropy", cancellationToken: t)).ResultAsync(t),
            CallLimit, "the first forward_backward");
        var step = await Bounded.WithinAsync(async t => await (await run.OptimStepAsync(new AdamParams { LearningRate = 5e-2 }, t)).ResultAsync(t),
            CallLimit, "optim_step");
        var second = await Bounded.WithinAsync(async t => await (await run.ForwardBackwardAsync(batch, "cross_entropy", cancellationToken: t)).ResultAsync(t),
            CallLimit, "the second forward_backward");

        Assert.Equal(1, step.Step);
        Assert.True(double.IsFinite(first.Metrics["loss:sum"]) && first.Metrics["loss:sum"] > 0, $"first loss {first.Metrics["loss:sum"]}");
        // One step of a large rate on the batch itself lowers its loss on any CPU kernel.
        Assert.True(second.Metrics["loss:sum"] < first.Metrics["loss:sum"], $"loss {first.Metrics["loss:sum"]} → {second.Metrics["loss:sum"]} after one step");
        Assert.Equal(1, (await Bounded.WithinAsync(t => run.GetInfoAsync(t), CallLimit, "the run's info")).Step);
    }
}
