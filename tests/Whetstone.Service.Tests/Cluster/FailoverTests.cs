using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.Cluster;

/// <summary>A worker silo stopped mid-run: the run's next call places it on the other worker of
/// its base model, which restores it from its last save_state on the shared checkpoint
/// directory. The steps after that save are redone, and give the losses of an uninterrupted run
/// restarted from that state (and the losses they had before the worker stopped).</summary>
[Collection(ClusterCollection.Name)]
public class FailoverTests
{
    static IReadOnlyList<Datum> Batch(int step) =>
        [Datums.ForCrossEntropy(Enumerable.Range(0, 10).Select(i => (i * 7 + step * 3) % 200 + 5).ToArray())];

    static async Task<double> StepAsync(TrainingClient run, int step)
    {
        var fb = await run.ForwardBackwardAsync(Batch(step), "cross_entropy");
        var optim = await run.OptimStepAsync(new AdamParams { LearningRate = 5e-3 });
        var loss = (await fb.ResultAsync()).Metrics["loss:sum"];
        await optim.ResultAsync();
        return loss;
    }

    [Fact(Timeout = Bounded.TestMilliseconds)]
    public async Task StoppedWorkersRunContinuesOnAnotherFromItsLastStateWithTheSameLosses()
    {
        await using var cluster = await TestWorkers.StartAsync([TestWorkers.ModelA], [TestWorkers.ModelA]);
        using var client = await cluster.ClientAsync("carol");
        var run = await client.CreateLoraTrainingClientAsync(TestWorkers.ModelA, rank: 4, seed: 11);
        for (int s = 0; s < 3; s++) await StepAsync(run, s);
        string state = (await (await run.SaveStateAsync("step-3")).ResultAsync()).Path;
        var beforeStop = new double[2];
        for (int s = 3; s < 5; s++) beforeStop[s - 3] = await StepAsync(run, s);

        var first = await cluster.WhereAsync(TestWorkers.ModelA, run.RunId);
        await cluster.StopAsync(first);

        // The same client and run id: its calls now reach the other worker (after 503s while the
        // run is placed again, which the SDK retries), at the saved step.
        var info = await run.GetInfoAsync();
        Assert.Equal(3, info.Step);
        Assert.Equal(state, info.LastCheckpoint);
        var second = await cluster.WhereAsync(TestWorkers.ModelA, run.RunId);
        Assert.NotEqual(first, second);
        var redone = new double[3];
        for (int s = 3; s < 6; s++) redone[s - 3] = await StepAsync(run, s);
        Assert.Equal(6, (await run.GetInfoAsync()).Step);

        // Reference: one process, no cluster, a new run restarted from the same state.
        var reference = new double[3];
        await using (var single = await ServiceCore.CreateAsync(TestWorkers.Options(cluster.DataDirectory, TestWorkers.ModelA)))
        {
            using var alone = ServiceClient.Connect(await single.InMemoryClientAsync("carol"));
            var restarted = await alone.CreateTrainingClientFromStateAsync(state, withOptimizer: true);
            for (int s = 3; s < 6; s++) reference[s - 3] = await StepAsync(restarted, s);
        }
        Assert.Equal(reference, redone);
        Assert.Equal(beforeStop, redone[..2]);
        Assert.All(redone, l => Assert.True(double.IsFinite(l) && l > 0));
    }
}
