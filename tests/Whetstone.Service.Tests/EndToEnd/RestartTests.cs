using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.EndToEnd;

public class RestartTests
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

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task ServerRestartedMidTrainingResumesFromTheLastStateWithTheSameLosses(Transport transport)
    {
        double[] uninterrupted = new double[4];
        await using (var server = await TestServers.StartAsync(transport: transport))
        {
            using var client = await TestServers.ClientAsync(server, "carol");
            var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 11);
            for (int s = 0; s < 4; s++) uninterrupted[s] = await StepAsync(run, s);
        }

        var data = TestServers.NewDataDirectory();
        string key, runId, state;
        var resumed = new double[4];
        await using (var first = await TestServers.StartAsync(data, transport))
        {
            key = await TestServers.KeyAsync(first, "carol");
            using var client = first.Client(key);
            var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 11);
            runId = run.RunId;
            for (int s = 0; s < 2; s++) resumed[s] = await StepAsync(run, s);
            state = (await (await run.SaveStateAsync("step-2")).ResultAsync()).Path;
        }   // the server stops here, mid-training

        await using (var second = await TestServers.StartAsync(data, transport))
        {
            using var client = second.Client(key);   // keys survive the restart
            var info = await client.CreateRestClient().GetTrainingRunAsync(runId);
            Assert.Equal(state, info.LastCheckpoint);
            Assert.Equal(2, info.Step);
            Assert.Contains((await client.CreateRestClient().ListCheckpointsAsync(runId)).Checkpoints, c => c.Path == state);
            var run = await client.CreateTrainingClientFromStateAsync(state, withOptimizer: true);
            for (int s = 2; s < 4; s++) resumed[s] = await StepAsync(run, s);
            // The original run, by its id, comes back from its last state on its first call.
            var original = await client.GetTrainingClientAsync(runId);
            var again = new double[2];
            for (int s = 2; s < 4; s++) again[s - 2] = await StepAsync(original, s);
            Assert.Equal(uninterrupted[2..], again);
            Assert.Equal(4, (await original.GetInfoAsync()).Step);
        }
        Assert.Equal(uninterrupted, resumed);
    }
}
