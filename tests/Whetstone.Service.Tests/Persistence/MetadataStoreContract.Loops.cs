using Whetstone.Service.Persistence;

namespace Whetstone.Service.Tests.Persistence;

// Canary splits and loops on every database: the SQL of the split, the atomic loop transitions
// and the deployment-scoped feedback window (tenant and name prefix, '_' not a wildcard).
public abstract partial class MetadataStoreContract
{
    static ServedCompletionRecord Completion(string id, string tenant, string? deployment, DateTimeOffset at, string? arm = null) =>
        new(id, tenant, "completions", deployment ?? "m", "m", at)
        {
            Deployment = deployment, Arm = arm, RequestJson = "[]", PromptTokensJson = "[1,2]", ChoicesJson = "[]", ParamsJson = "{}",
        };

    [Fact]
    public async Task CanarySplitsAddCandidatesAndPromoteThemInOneStep()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertDeploymentAsync(new DeploymentRecord("acme", "helper", T0, 0));
        Assert.Equal(1, await store.PromoteDeploymentAsync("acme", "helper", "whet://r/sampler_weights/a", T0));
        Assert.Equal(2, await store.AddDeploymentVersionAsync("acme", "helper", "whet://r/sampler_weights/b", T0.AddSeconds(1)));
        Assert.Equal(1, (await store.GetDeploymentAsync("acme", "helper"))!.CurrentVersion);
        Assert.True(await store.SetDeploymentTrafficAsync("acme", "helper", 2, 12.5));
        var split = (await store.GetDeploymentAsync("acme", "helper"))!;
        Assert.Equal((2, 12.5), (split.CandidateVersion, split.CandidatePercent));
        Assert.True(await store.PromoteDeploymentCandidateAsync("acme", "helper"));
        var promoted = (await store.GetDeploymentAsync("acme", "helper"))!;
        Assert.Equal((2, (int?)null, 0.0), (promoted.CurrentVersion, promoted.CandidateVersion, promoted.CandidatePercent));
        Assert.False(await store.PromoteDeploymentCandidateAsync("acme", "helper"));   // no split left
        Assert.False(await store.SetDeploymentTrafficAsync("globex", "helper", 2, 50));
    }

    [Fact]
    public async Task LoopIterationsMoveStateAndCursorTogetherAndWindowsStayInTheirDeployment()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        // Feedback on acme's helper (v1 and v2), on acme's "help_r" ('_' must not match "helper"), and on globex's helper.
        var completions = new[]
        {
            Completion("c1", "acme", "helper@v1", T0), Completion("c2", "acme", "helper@v2", T0.AddSeconds(1), "candidate") with { User = "ann" },
            Completion("c3", "acme", "help_r@v1", T0.AddSeconds(2)), Completion("c4", "globex", "helper@v1", T0.AddSeconds(3)),
            Completion("c5", "acme", null, T0.AddSeconds(4)),
        };
        foreach (var c in completions) await store.InsertServedCompletionAsync(c);
        int n = 0;
        foreach (var c in completions)
            await store.InsertFeedbackAsync(new FeedbackRecord($"f{++n}", c.Tenant, c.Id, "thumbs_up", T0.AddSeconds(10 + n)));
        var window = await store.ListDeploymentFeedbackAsync("acme", "helper", null, T0.AddHours(1), 100);
        Assert.Equal(["f1", "f2"], window.Select(w => w.Feedback.Id));
        Assert.Equal([null, "candidate"], window.Select(w => w.Arm));
        Assert.Equal([null, "ann"], window.Select(w => w.User));   // the canary compares each user with themself
        Assert.Equal(["c2", "c1"], (await store.ListDeploymentCompletionsAsync("acme", "helper", 10)).Select(c => c.Id));
        Assert.Empty(await store.ListDeploymentFeedbackAsync("acme", "helper", "f2", T0.AddHours(1), 100));
        Assert.Equal(["f1"], (await store.ListDeploymentFeedbackAsync("acme", "helper", null, T0.AddSeconds(12), 100)).Select(w => w.Feedback.Id));

        var loop = new LoopRecord("loop1", "acme", "helper", "{}", T0);
        await store.InsertLoopAsync(loop);
        var iteration = new LoopIterationRecord("loop1", 1, T0.AddMinutes(1)) { WindowEnd = "f2", FeedbackIdsJson = """["f1","f2"]""", DeployedVersion = 1 };
        Assert.True(await store.StartLoopIterationAsync(loop, iteration));
        Assert.False(await store.StartLoopIterationAsync(loop, iteration with { Iteration = 1 }));   // a second start loses
        Assert.Equal(("training", 1), ((await store.GetLoopAsync("loop1"))!.State, (await store.GetLoopAsync("loop1"))!.Iteration));

        await store.UpdateLoopIterationAsync(iteration with { Stage = "gating", CandidateRun = "run-x", MetricsJson = """{"a":1.5}""" }, "gating");
        var stored = (await store.ListLoopIterationsAsync("loop1")).Single();
        Assert.Equal(("gating", "run-x", """{"a":1.5}"""), (stored.Stage, stored.CandidateRun, stored.MetricsJson));
        var midway = (await store.GetLoopAsync("loop1"))!;
        Assert.Equal(("gating", null, 0L), (midway.State, midway.FeedbackCursor, midway.FeedbackConsumed));

        await store.FinishLoopIterationAsync(stored with { Stage = "done", Outcome = "promoted", DeploymentVersion = 2, FinishedAt = T0.AddMinutes(2) }, consumed: true);
        var done = (await store.GetLoopAsync("loop1"))!;
        Assert.Equal(("idle", "f2", 2L, T0.AddMinutes(2)), (done.State, done.FeedbackCursor, done.FeedbackConsumed, done.LastIterationAt));
        Assert.Equal(("promoted", (int?)2), ((await store.ListLoopIterationsAsync("loop1")).Single().Outcome, (await store.ListLoopIterationsAsync("loop1")).Single().DeploymentVersion));

        // An aborted iteration leaves the cursor where it was.
        var second = new LoopIterationRecord("loop1", 2, T0.AddMinutes(3)) { WindowEnd = "f9", FeedbackIdsJson = """["f9"]""", DeployedVersion = 2 };
        Assert.True(await store.StartLoopIterationAsync(done, second));
        await store.FinishLoopIterationAsync(second with { Stage = "done", Outcome = "aborted", FinishedAt = T0.AddMinutes(4) }, consumed: false);
        Assert.Equal(("f2", 2L), ((await store.GetLoopAsync("loop1"))!.FeedbackCursor, (await store.GetLoopAsync("loop1"))!.FeedbackConsumed));

        Assert.True(await store.UpdateLoopSettingsAsync("loop1", """{"x":1}""", "deleted"));
        Assert.Null(await store.GetLoopAsync("loop1"));
        Assert.Empty(await store.ListLoopsAsync(null));
    }
}
