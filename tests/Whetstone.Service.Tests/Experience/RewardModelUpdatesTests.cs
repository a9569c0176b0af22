using static Whetstone.Service.Tests.Experience.RewardModelScenario;

namespace Whetstone.Service.Tests.Experience;

/// <summary>How updates are cut and fed: micro-batches of at most batch_events, replay of older
/// feedback in each, and the background updater's two triggers (N events, T seconds).</summary>
public class RewardModelUpdatesTests
{
    [Fact]
    public async Task MicroBatchesTakeAtMostBatchEventsAndReplayOlderFeedback()
    {
        await using var s = await StartAsync(settings: Settings(batch: 4, replay: 0.5, steps: 1));
        var ids = new List<string>();
        for (int i = 0; i < 10; i++) ids.Add(await s.ThumbsAsync(await s.ServedAsync(Prompt(i), Answer(i, good: i % 2 == 0)), up: i % 2 == 0));

        var v1 = (await s.UpdateAsync())!;
        Assert.Equal(ids[..4], v1.Version.FeedbackIds);
        Assert.Empty(v1.Version.ReplayIds);                      // nothing older to replay yet
        var v2 = (await s.UpdateAsync())!;
        Assert.Equal(ids[4..8], v2.Version.FeedbackIds);
        // replay_fraction 0.5: as many replayed as new (4), all from what v1 trained on, none twice.
        Assert.Equal(4, v2.ReplayEvents);
        Assert.Equal(ids[..4].Order(), v2.Version.ReplayIds.Order());
        var v3 = (await s.UpdateAsync())!;
        Assert.Equal(ids[8..], v3.Version.FeedbackIds);
        Assert.Equal(2, v3.ReplayEvents);                         // 2 new → 2 replayed, from v1's and v2's
        Assert.All(v3.Version.ReplayIds, id => Assert.Contains(id, ids[..8]));
        Assert.Equal(2, v3.Version.ReplayIds.Distinct().Count());
        Assert.Null(await s.UpdateAsync());
        Assert.Equal(3, await s.Models.FirstTrainedOnAsync(s.Caller, Deployment, ids[9]));
        Assert.Equal(1, await s.Models.FirstTrainedOnAsync(s.Caller, Deployment, ids[0]));
    }

    [Fact]
    public async Task TheBackgroundUpdaterTriggersOnBatchSizeAndOnInterval()
    {
        await using var s = await StartAsync(createModel: false);
        // By count: 3 events make a batch; the interval (an hour) never fires.
        await s.CreateAsync("by-count", Settings(batch: 3, steps: 1) with { AutoUpdate = true, IntervalSeconds = 3600 });
        // By time: one event waits until 1 second after the last version.
        await s.CreateAsync("by-time", Settings(batch: 100, steps: 1) with { AutoUpdate = true, IntervalSeconds = 1 });

        for (int i = 0; i < 2; i++) await s.ThumbsAsync(await s.ServedAsync(Prompt(i), Answer(i, good: true), deployment: "by-count"), up: true);
        await s.ThumbsAsync(await s.ServedAsync(Prompt(7), Answer(7, good: true), deployment: "by-time"), up: true);
        Assert.Equal(1, (await WaitForVersionAsync(s, "by-time", 1)).EventsSeen);
        // Two events are under the batch size: no update for by-count yet, even after by-time's.
        await Task.Delay(Poll * 2);
        Assert.Equal(0, (await s.Models.StatusAsync(s.Caller, "by-count")).Version);
        await s.ThumbsAsync(await s.ServedAsync(Prompt(2), Answer(2, good: true), deployment: "by-count"), up: true);
        Assert.Equal(3, (await WaitForVersionAsync(s, "by-count", 1)).EventsSeen);
    }

    static readonly TimeSpan Poll = Whetstone.Service.Experience.RewardModels.RewardModelBackground.PollInterval;

    static async Task<Protocol.RewardModelInfo> WaitForVersionAsync(RewardModelScenario s, string deployment, int version)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = await s.Models.StatusAsync(s.Caller, deployment);
            if (status.Version >= version) return status;
            Assert.True(DateTime.UtcNow < deadline, $"{deployment} still at version {status.Version} after 60 s");
            await Task.Delay(100);
        }
    }
}
