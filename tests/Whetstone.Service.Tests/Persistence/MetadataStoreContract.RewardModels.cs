using Whetstone.Service.Persistence;

namespace Whetstone.Service.Tests.Persistence;

// Reward models: the version, cursor, count and predictions move together or not at all.
public abstract partial class MetadataStoreContract
{
    [Fact]
    public async Task RewardModelVersionsCommitWithTheirCursorOnceAndPerTenant()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        var model = new RewardModelRecord("acme", "helper", "run_rm", "tiny", """{"rank":4}""", T0);
        Assert.True(await store.InsertRewardModelAsync(model, new RewardModelVersionRecord("acme", "helper", 0, "whet://run_rm/weights/rm-v0", T0)));
        Assert.False(await store.InsertRewardModelAsync(model with { RunId = "other" }, new RewardModelVersionRecord("acme", "helper", 0, "x", T0)));
        Assert.True(await store.InsertRewardModelAsync(model with { Tenant = "globex" }, new RewardModelVersionRecord("globex", "helper", 0, "y", T0)));

        var v1 = new RewardModelVersionRecord("acme", "helper", 1, "whet://run_rm/weights/rm-v1", T0.AddSeconds(1))
        {
            FeedbackIdsJson = """["fb_1","fb_2"]""", ReplayIdsJson = "[]", MetricsJson = """{"new_events":2}""",
        };
        RewardModelPredictionRecord[] predictions =
        [
            new("acme", "helper", "fb_1", 0, "thumbs_up", 0.25, true, T0.AddSeconds(1)),
            new("acme", "helper", "fb_2", 0, "preference", -1.5, false, T0.AddSeconds(1)),
        ];
        Assert.True(await store.CommitRewardModelVersionAsync(v1, fromVersion: 0, "fb_2", 2, predictions));
        // A second commit from the same starting version (a racing or replayed update) changes nothing.
        Assert.False(await store.CommitRewardModelVersionAsync(v1 with { StatePath = "dup" }, fromVersion: 0, "fb_9", 9, predictions));

        var stored = await store.GetRewardModelAsync("acme", "helper");
        Assert.Equal((1, "fb_2", 2L, "run_rm"), (stored!.Version, stored.Cursor, stored.EventsSeen, stored.RunId));
        var versions = await store.ListRewardModelVersionsAsync("acme", "helper");
        Assert.Equal([0, 1], versions.Select(v => v.Version));
        Assert.Equal(("whet://run_rm/weights/rm-v1", """["fb_1","fb_2"]""", T0.AddSeconds(1)), (versions[1].StatePath, versions[1].FeedbackIdsJson, versions[1].CreatedAt));
        Assert.Equal(predictions, await store.ListRewardModelPredictionsAsync("acme", "helper"));
        Assert.Empty(await store.ListRewardModelPredictionsAsync("globex", "helper"));
        Assert.Equal(0, (await store.GetRewardModelAsync("globex", "helper"))!.Version);
        Assert.Equal(2, (await store.ListRewardModelsAsync()).Count);
    }
}
