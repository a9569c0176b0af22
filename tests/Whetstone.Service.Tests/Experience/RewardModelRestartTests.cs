using Whetstone.Service.Tests.EndToEnd;
using static Whetstone.Service.Tests.Experience.RewardModelScenario;

namespace Whetstone.Service.Tests.Experience;

/// <summary>A reward model survives a server restart: the same version scores the same, the
/// feedback consumed before is not trained on again, and the feedback that arrived after is
/// trained on exactly once.</summary>
public class RewardModelRestartTests
{
    [Fact]
    public async Task ARestartedServerResumesWithoutLosingOrDoubleCountingFeedback()
    {
        var data = TestServers.NewDataDirectory();
        var probe = Enumerable.Range(200, 6).Select(i => (Prompt(i), Answer(i, good: i % 2 == 0))).ToArray();
        var firstIds = new List<string>();
        var laterIds = new List<string>();
        IReadOnlyList<double> scoresBefore;
        await using (var s = await StartAsync(dataDirectory: data))
        {
            for (int i = 0; i < 6; i++) firstIds.Add(await s.ThumbsAsync(await s.ServedAsync(Prompt(i), Answer(i, good: true)), up: true));
            Assert.Equal(firstIds, (await s.UpdateAsync())!.Version.FeedbackIds);
            for (int i = 6; i < 10; i++) laterIds.Add(await s.ThumbsAsync(await s.ServedAsync(Prompt(i), Answer(i, good: false)), up: false));
            scoresBefore = await s.ScoreAsync(probe);
        }

        await using (var s = await StartAsync(dataDirectory: data, createModel: false))
        {
            var status = await s.Models.StatusAsync(s.Caller, Deployment);
            Assert.Equal((1, 6L, 4L), (status.Version, status.EventsSeen, status.EventsPending));
            // Version 1's state came back: the same scores, to the bit.
            Assert.Equal(scoresBefore, await s.ScoreAsync(probe));

            var update = await s.UpdateAsync();
            Assert.Equal(2, update!.Version.Version);
            Assert.Equal(laterIds, update.Version.FeedbackIds);
            Assert.Null(await s.UpdateAsync());
            var versions = await s.Models.VersionsAsync(s.Caller, Deployment);
            Assert.Equal([0, 1, 2], versions.Select(v => v.Version));
            var trained = versions.SelectMany(v => v.FeedbackIds).ToList();
            Assert.Equal(firstIds.Concat(laterIds), trained);   // each once, in order
            Assert.Equal(10, (await s.Models.StatusAsync(s.Caller, Deployment)).EventsSeen);
            Assert.Equal(2, await s.Models.FirstTrainedOnAsync(s.Caller, Deployment, laterIds[0]));
            Assert.Equal(2, (await s.Models.CurrentVersionAsync(s.Caller, Deployment))!.Version);
        }
    }

    /// <summary>An update that fails after training but before its commit (here: cancelled) leaves
    /// the previous version current and its events waiting; the next update reloads the committed
    /// state first, so those events are trained on once.</summary>
    [Fact]
    public async Task AnUpdateThatDiesBeforeItsCommitIsRetrainedFromTheCommittedState()
    {
        // Many steps per update, so there is time to cancel between the first one and the commit.
        await using var s = await StartAsync(settings: Settings(steps: 40));
        for (int i = 0; i < 4; i++) await s.ThumbsAsync(await s.ServedAsync(Prompt(i), Answer(i, good: true)), up: true);
        var probe = Enumerable.Range(300, 4).Select(i => (Prompt(i), Answer(i, good: true))).ToArray();
        var atVersion0 = await s.ScoreAsync(probe);

        using var cancel = new CancellationTokenSource();
        var dying = s.Models.UpdateNowAsync(s.Caller, Deployment, cancel.Token);
        // Cancel as soon as the run has taken an optimizer step (its weights moved, nothing committed).
        var run = (await s.Models.StatusAsync(s.Caller, Deployment)).RunId;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await s.Store.GetRunAsync(run))!.Step == 0 && DateTime.UtcNow < deadline) await Task.Delay(5);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dying);

        var status = await s.Models.StatusAsync(s.Caller, Deployment);
        Assert.Equal((0, 0L, 4L), (status.Version, status.EventsSeen, status.EventsPending));
        Assert.Equal(atVersion0, await s.ScoreAsync(probe));   // the half-trained weights were thrown away
        var update = await s.UpdateAsync();
        Assert.Equal((1, 4), (update!.Version.Version, update.NewEvents));
        Assert.Equal(4, (await s.Models.StatusAsync(s.Caller, Deployment)).EventsSeen);
    }
}
