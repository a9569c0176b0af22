using Whetstone.Client;
using Whetstone.Engine.Formats;
using Whetstone.Protocol;

namespace Whetstone.Cli.Tests.Reliability;

/// <summary>kill -9 while checkpoints are being saved, again and again: after each restart every
/// checkpoint the API lists is whole (its manifest verifies, it loads, it samples) — a checkpoint
/// the kill caught mid-save is invisible, never partial. Bounded here (2 kills, seed 7); the long
/// form: <c>WHET_KILL_ROUNDS=50 WHET_KILL_SEED=1</c> on the same test.</summary>
public class KillDuringSaveTests
{
    // Few names, saved over and over: most saves replace a checkpoint, the riskiest path.
    static readonly string[] StateNames = ["same", "a0", "a1", "a2"];

    [Fact]
    public async Task CheckpointsSavedWhileTheServerIsKilledAreWholeOrInvisible()
    {
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("WHET_KILL_ROUNDS"), out var r) ? r : 2;
        var random = new Random(int.TryParse(Environment.GetEnvironmentVariable("WHET_KILL_SEED"), out var s) ? s : 7);
        using var data = new TempDirectory();
        string? runId = null;
        int listed = 0, savesAcknowledged = 0;
        for (int round = 0; round <= rounds; round++)
        {
            using var serve = await ServeProcess.StartAsync(TinyModel.ModelDirectory, data.Path);
            using var client = ServiceClient.Connect(serve.Url, ServeProcess.AdminKey);
            if (runId is not null) listed = await CheckEveryListedCheckpointAsync(client, data.Path, runId);
            if (round == rounds) break;   // the last start only checks

            var run = runId is null ? await client.CreateLoraTrainingClientAsync(Path.GetFileName(TinyModel.ModelDirectory), rank: 4, seed: 3)
                : await client.GetTrainingClientAsync(runId);
            runId = run.RunId;
            using var stop = new CancellationTokenSource();
            async Task StepAndSaveAsync(int i)
            {
                var tokens = Enumerable.Range(0, 12).Select(t => (t * 7 + i) % 200 + 5).ToArray();
                await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy(tokens)], "cross_entropy", cancellationToken: stop.Token)).ResultAsync(stop.Token);
                await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.01 }, stop.Token)).ResultAsync(stop.Token);
                var save = i % 3 == 2 ? await run.SaveWeightsForSamplerAsync("w-same", stop.Token) : await run.SaveStateAsync(StateNames[i % StateNames.Length], stop.Token);
                await save.ResultAsync(stop.Token);
                Interlocked.Increment(ref savesAcknowledged);
            }
            // One save before the clock starts (the first call loads the model, slow on a busy machine).
            await StepAndSaveAsync(round);
            var saving = Task.Run(async () =>
            {
                for (int i = round + 1; !stop.IsCancellationRequested; i++) await StepAndSaveAsync(i);
            });
            await Task.Delay(random.Next(100, 2500));
            serve.Kill();
            stop.Cancel();
            await Task.WhenAny(saving, Task.Delay(TimeSpan.FromSeconds(10)));
        }
        Assert.True(savesAcknowledged > 0, "no save finished before a kill: the loop never reached a checkpoint");
        Assert.True(listed > 0, "no checkpoint was listed after the kills");
        TestContext.Current.SendDiagnosticMessage($"kill during save: {rounds} kills, {savesAcknowledged} saves acknowledged, {listed} checkpoints listed at the end, all whole");
    }

    /// <summary>Every listed checkpoint: its directory is there, its manifest verifies, and it loads
    /// (a training state into the run, a sampler checkpoint into a sampling session that samples).
    /// Returns how many were listed.</summary>
    static async Task<int> CheckEveryListedCheckpointAsync(ServiceClient client, string data, string runId)
    {
        var checkpoints = (await client.CreateRestClient().ListCheckpointsAsync(runId)).Checkpoints;
        var run = await client.GetTrainingClientAsync(runId);
        foreach (var checkpoint in checkpoints)
        {
            var directory = Path.Combine(data, "checkpoints", runId, checkpoint.Kind, checkpoint.Name);
            Assert.True(Directory.Exists(directory), $"{checkpoint.Path} is listed but its directory is missing");
            CheckpointDirectory.Verify(directory);
            if (checkpoint.Kind == "weights")
                Assert.Equal(checkpoint.Path, await (await run.LoadStateAsync(checkpoint.Path, withOptimizer: true)).ResultAsync());
            else
            {
                var sampler = await client.CreateSamplingClientAsync(modelPath: checkpoint.Path);
                var output = await (await sampler.SampleAsync(ModelInput.FromTokens([5, 6, 7]), 1, new SamplingParams { MaxTokens = 2, Seed = 1 })).ResultAsync();
                Assert.NotEmpty(output.Sequences[0].Tokens);
                await sampler.CloseAsync();
            }
        }
        return checkpoints.Count;
    }
}
