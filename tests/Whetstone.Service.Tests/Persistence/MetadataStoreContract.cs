using Whetstone.Service.Persistence;

namespace Whetstone.Service.Tests.Persistence;

/// <summary>What every <see cref="IMetadataStore"/> must do, run against each real database by a
/// subclass. xUnit makes a new instance per test, so every test gets a fresh database.</summary>
public abstract partial class MetadataStoreContract : IAsyncLifetime
{
    // Not UTC and not on a whole second, so offsets and sub-second parts are exercised everywhere.
    private static readonly DateTimeOffset T0 = new DateTimeOffset(2025, 3, 14, 15, 9, 26, 535, TimeSpan.FromHours(2)).AddTicks(1230);

    private readonly List<IMetadataStore> _open = [];

    /// <summary>Creates this test's empty database (a temp file, a fresh schema).</summary>
    protected abstract Task CreateDatabaseAsync();
    protected abstract Task DropDatabaseAsync();
    /// <summary>A new, uninitialized store over this test's database.</summary>
    protected abstract IMetadataStore NewStore();
    /// <summary>True only when the developer opted out of this backend: each test is then reported as skipped.</summary>
    protected virtual bool BackendSkipped => false;

    private void SkipWhenOptedOut() =>
        Assert.SkipWhen(BackendSkipped, $"{GetType().Name}: this backend was opted out (WHET_SKIP_POSTGRES=1 and no WHET_TEST_POSTGRES)");

    async ValueTask IAsyncLifetime.InitializeAsync()
    {
        if (!BackendSkipped) await CreateDatabaseAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        foreach (var store in _open) await store.DisposeAsync();
        if (!BackendSkipped) await DropDatabaseAsync();
    }

    private async Task<IMetadataStore> OpenAsync()
    {
        var store = NewStore();
        _open.Add(store);
        await store.InitializeAsync();
        return store;
    }

    /// <summary>Disposes the store and opens a new one on the same database, as a restarted server would.</summary>
    private async Task<IMetadataStore> RestartAsync(IMetadataStore store)
    {
        _open.Remove(store);
        await store.DisposeAsync();
        return await OpenAsync();
    }

    private static ApiKeyRecord Key(string id, bool admin = false, string tenant = "acme") =>
        new(id, tenant, $"{id} key", $"hash-of-{id}", admin, T0);

    private static RunRecord Run(string id, string tenant = "acme", int minutes = 0) =>
        new(id, tenant, "whetstone/tiny-llama", T0.AddMinutes(minutes))
        {
            LoraConfigJson = """{"rank":8,"alpha":16}""",
            UserMetadataJson = """{"experiment":"a"}""",
        };

    private static CheckpointRecord Checkpoint(string runId, string name, int minutes = 0) =>
        new($"whet://{runId}/weights/{name}", runId, "acme", "weights", name, $"/data/checkpoints/{runId}/{name}", T0.AddMinutes(minutes))
        {
            SizeBytes = 12_345_678_901,
        };

    private static RequestRecord Request(string id, string? runId = "run-1") =>
        new(id, "acme", runId, "forward_backward", "pending", T0);

    [Fact]
    public async Task InitializeTwiceIsHarmless()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertRunAsync(Run("run-1"));
        await store.InitializeAsync();
        Assert.NotNull(await store.GetRunAsync("run-1"));
    }

    [Fact]
    public async Task DataSurvivesRestartingTheStore()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertApiKeyAsync(Key("k1"));
        await store.InsertRunAsync(Run("run-1"));
        await store.UpsertCheckpointAsync(Checkpoint("run-1", "step-10"));
        await store.InsertRequestAsync(Request("req-1"));
        await store.AddUsageAsync("k1", "run-1", new UsageTotals { TrainedTokens = 5 });

        store = await RestartAsync(store);

        Assert.Equal(Key("k1"), await store.FindActiveApiKeyAsync("hash-of-k1"));
        Assert.Equal(Run("run-1"), await store.GetRunAsync("run-1"));
        Assert.Equal(Checkpoint("run-1", "step-10"), await store.GetCheckpointAsync("whet://run-1/weights/step-10"));
        Assert.Equal(Request("req-1"), await store.GetRequestAsync("req-1"));
        Assert.Equal(5, (await store.GetRunUsageAsync("run-1")).TrainedTokens);
    }

    [Fact]
    public async Task TimestampsRoundTripToTheMicrosecond()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertRunAsync(Run("run-1") with { LastRequestAt = T0.AddTicks(10) });
        var run = await store.GetRunAsync("run-1");
        Assert.Equal(T0.UtcTicks, run!.CreatedAt.UtcTicks);
        Assert.Equal(T0.AddTicks(10).UtcTicks, run.LastRequestAt!.Value.UtcTicks);
    }

    [Fact]
    public async Task ActiveKeyIsFoundByItsHashAndRevokedKeyIsNot()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertApiKeyAsync(Key("k1"));
        await store.InsertApiKeyAsync(Key("k2", tenant: "globex"));
        Assert.Equal(Key("k1"), await store.FindActiveApiKeyAsync("hash-of-k1"));
        Assert.Null(await store.FindActiveApiKeyAsync("hash-of-nobody"));

        Assert.True(await store.RevokeApiKeyAsync("k1", T0.AddDays(1)));
        Assert.False(await store.RevokeApiKeyAsync("k1", T0.AddDays(2)));
        Assert.False(await store.RevokeApiKeyAsync("no-such-key", T0));
        Assert.Null(await store.FindActiveApiKeyAsync("hash-of-k1"));
        Assert.Equal(Key("k2", tenant: "globex"), await store.FindActiveApiKeyAsync("hash-of-k2"));

        // Listing keeps revoked keys, with the first revocation time.
        Assert.Equal([Key("k1") with { RevokedAt = T0.AddDays(1) }, Key("k2", tenant: "globex")], await store.ListApiKeysAsync());
    }

    [Fact]
    public async Task AnyAdminKeyCountsOnlyActiveAdminKeys()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        Assert.False(await store.AnyAdminKeyAsync());
        await store.InsertApiKeyAsync(Key("user"));
        Assert.False(await store.AnyAdminKeyAsync());
        await store.InsertApiKeyAsync(Key("admin", admin: true));
        Assert.True(await store.AnyAdminKeyAsync());
        await store.RevokeApiKeyAsync("admin", T0);
        Assert.False(await store.AnyAdminKeyAsync());
    }

    [Fact]
    public async Task RunRoundTripsEveryField()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        var full = Run("run-full") with
        {
            FullFineTuning = true, LoraConfigJson = null, Step = 42, LastRequestAt = T0.AddHours(1),
            LastCheckpoint = "whet://run-full/weights/step-42", LastSamplerCheckpoint = "whet://run-full/sampler_weights/step-42",
        };
        var bare = new RunRecord("run-bare", "acme", "whetstone/tiny-llama", T0);
        await store.InsertRunAsync(full);
        await store.InsertRunAsync(bare);
        Assert.Equal(full, await store.GetRunAsync("run-full"));
        Assert.Equal(bare, await store.GetRunAsync("run-bare"));
        Assert.Null(await store.GetRunAsync("no-such-run"));
    }

    [Fact]
    public async Task ListRunsShowsOnlyTheTenantsRunsNewestFirst()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertRunAsync(Run("old", minutes: 0));
        await store.InsertRunAsync(Run("other-tenant", tenant: "globex", minutes: 5));
        await store.InsertRunAsync(Run("new", minutes: 10));
        Assert.Equal(["new", "old"], (await store.ListRunsAsync("acme")).Select(r => r.Id));
        Assert.Equal(["other-tenant"], (await store.ListRunsAsync("globex")).Select(r => r.Id));
        Assert.Empty(await store.ListRunsAsync("initech"));
    }

    [Fact]
    public async Task UpdateRunReplacesOnlyTheMutableFields()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertRunAsync(Run("run-1"));
        var updated = Run("run-1") with
        {
            Step = 7, LastRequestAt = T0.AddMinutes(3), LastCheckpoint = "whet://run-1/weights/step-7",
            LastSamplerCheckpoint = "whet://run-1/sampler_weights/step-7", UserMetadataJson = """{"experiment":"b"}""",
        };
        await store.UpdateRunAsync(updated with { Tenant = "globex", BaseModel = "other" });
        Assert.Equal(updated, await store.GetRunAsync("run-1"));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.UpdateRunAsync(Run("no-such-run")));
    }

    [Fact]
    public async Task UpsertCheckpointReplacesTheRecordWithTheSamePath()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.UpsertCheckpointAsync(Checkpoint("run-1", "final"));
        var savedAgain = Checkpoint("run-1", "final", minutes: 30) with { SizeBytes = 99, Published = true, ExpiresAt = T0.AddDays(7) };
        await store.UpsertCheckpointAsync(savedAgain);
        Assert.Equal(savedAgain, await store.GetCheckpointAsync(savedAgain.Path));
        Assert.Equal([savedAgain], await store.ListCheckpointsAsync("run-1"));
        Assert.Null(await store.GetCheckpointAsync("whet://run-1/weights/missing"));
    }

    [Fact]
    public async Task ListCheckpointsIsPerRunOldestFirst()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.UpsertCheckpointAsync(Checkpoint("run-1", "step-20", minutes: 20));
        await store.UpsertCheckpointAsync(Checkpoint("run-2", "step-15", minutes: 15));
        await store.UpsertCheckpointAsync(Checkpoint("run-1", "step-10", minutes: 10));
        Assert.Equal(["step-10", "step-20"], (await store.ListCheckpointsAsync("run-1")).Select(c => c.Name));
        Assert.Empty(await store.ListCheckpointsAsync("run-3"));
    }

    [Fact]
    public async Task DeleteAndPublishAffectOnlyTheNamedCheckpoint()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        var kept = Checkpoint("run-1", "kept");
        var doomed = Checkpoint("run-1", "doomed");
        await store.UpsertCheckpointAsync(kept);
        await store.UpsertCheckpointAsync(doomed);

        Assert.True(await store.SetCheckpointPublishedAsync(kept.Path, true));
        Assert.True((await store.GetCheckpointAsync(kept.Path))!.Published);
        Assert.True(await store.SetCheckpointPublishedAsync(kept.Path, false));
        Assert.False((await store.GetCheckpointAsync(kept.Path))!.Published);
        Assert.False(await store.SetCheckpointPublishedAsync("whet://run-1/weights/missing", true));

        Assert.True(await store.DeleteCheckpointAsync(doomed.Path));
        Assert.False(await store.DeleteCheckpointAsync(doomed.Path));
        Assert.Null(await store.GetCheckpointAsync(doomed.Path));
        Assert.Equal([kept], await store.ListCheckpointsAsync("run-1"));
    }

    [Fact]
    public async Task ExpiredCheckpointsAreThoseDueAtOrBeforeNow()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        var now = T0.AddDays(1);
        foreach (var name in new[] { "long-past", "just-now", "future", "never", "cleared" })
            await store.UpsertCheckpointAsync(Checkpoint("run-1", name));
        Assert.True(await store.SetCheckpointExpiryAsync(Checkpoint("run-1", "long-past").Path, now.AddHours(-5)));
        Assert.True(await store.SetCheckpointExpiryAsync(Checkpoint("run-1", "just-now").Path, now));
        Assert.True(await store.SetCheckpointExpiryAsync(Checkpoint("run-1", "future").Path, now.AddMilliseconds(1)));
        Assert.True(await store.SetCheckpointExpiryAsync(Checkpoint("run-1", "cleared").Path, now.AddHours(-1)));
        Assert.True(await store.SetCheckpointExpiryAsync(Checkpoint("run-1", "cleared").Path, null));
        Assert.False(await store.SetCheckpointExpiryAsync("whet://run-1/weights/missing", now));

        // Compared as instants: the same moment in another offset is the same deadline.
        var expired = await store.ListExpiredCheckpointsAsync(now.ToOffset(TimeSpan.FromHours(-7)));
        Assert.Equal(["long-past", "just-now"], expired.Select(c => c.Name));
        Assert.Equal(now.AddHours(-5), expired[0].ExpiresAt);
        Assert.Null((await store.GetCheckpointAsync(Checkpoint("run-1", "cleared").Path))!.ExpiresAt);
    }

    [Fact]
    public async Task RequestIsPendingUntilCompleted()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertRequestAsync(Request("ok"));
        await store.InsertRequestAsync(Request("bad", runId: null));
        Assert.Equal(Request("ok"), await store.GetRequestAsync("ok"));

        await store.CompleteRequestAsync("ok", "done", null, T0.AddSeconds(2));
        await store.CompleteRequestAsync("bad", "failed", "loss_fn 'x' is not supported", T0.AddSeconds(3));
        Assert.Equal(Request("ok") with { Status = "done", CompletedAt = T0.AddSeconds(2) }, await store.GetRequestAsync("ok"));
        Assert.Equal(Request("bad", runId: null) with { Status = "failed", Error = "loss_fn 'x' is not supported", CompletedAt = T0.AddSeconds(3) },
            await store.GetRequestAsync("bad"));
        Assert.Null(await store.GetRequestAsync("no-such-request"));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.CompleteRequestAsync("no-such-request", "done", null, T0));
    }

    [Fact]
    public async Task UsageAddsUpPerRunAndPerApiKey()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        var sample = new UsageTotals { PrefillTokens = 100, SampledTokens = 20, ComputeSeconds = 0.25 };
        var train = new UsageTotals { TrainedTokens = 1_000, ComputeSeconds = 1.5 };
        await store.AddUsageAsync("k1", "run-1", sample);
        await store.AddUsageAsync("k1", "run-1", train);
        await store.AddUsageAsync("k2", "run-1", train);
        await store.AddUsageAsync("k1", null, sample); // sampling a base model: no run to charge

        Assert.Equal(new UsageTotals { PrefillTokens = 100, SampledTokens = 20, TrainedTokens = 2_000, ComputeSeconds = 3.25 },
            await store.GetRunUsageAsync("run-1"));
        Assert.Equal(new UsageTotals { PrefillTokens = 200, SampledTokens = 40, TrainedTokens = 1_000, ComputeSeconds = 2.0 },
            await store.GetApiKeyUsageAsync("k1"));
        Assert.Equal(train, await store.GetApiKeyUsageAsync("k2"));
        Assert.Equal(new UsageTotals(), await store.GetRunUsageAsync("run-2"));
        Assert.Equal(new UsageTotals(), await store.GetApiKeyUsageAsync("k3"));
    }

    [Fact]
    public async Task ConcurrentWritersAllSucceed()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        const int Writers = 8, PerWriter = 25;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < PerWriter; i++)
            {
                await store.InsertRequestAsync(Request($"req-{w}-{i}"));
                await store.AddUsageAsync("k1", "run-1", new UsageTotals { SampledTokens = 1 });
                await store.UpsertCheckpointAsync(Checkpoint("run-1", $"w{w}") with { SizeBytes = i });
                await store.CompleteRequestAsync($"req-{w}-{i}", "done", null, T0);
            }
        })));

        for (int w = 0; w < Writers; w++)
            for (int i = 0; i < PerWriter; i++)
                Assert.Equal("done", (await store.GetRequestAsync($"req-{w}-{i}"))?.Status);
        Assert.Equal(Writers * PerWriter, (await store.GetRunUsageAsync("run-1")).SampledTokens);
        Assert.Equal(Writers * PerWriter, (await store.GetApiKeyUsageAsync("k1")).SampledTokens);
        var checkpoints = await store.ListCheckpointsAsync("run-1");
        Assert.Equal(Writers, checkpoints.Count);
        Assert.All(checkpoints, c => Assert.Equal(PerWriter - 1, c.SizeBytes));
    }

    private static ServedCompletionRecord Served(string id, int seconds, string tenant = "acme") =>
        new(id, tenant, "chat.completions", "helper@latest", "whetstone/tiny-llama", T0.AddSeconds(seconds))
        {
            CheckpointPath = "whet://run-1/sampler_weights/w1",
            Deployment = "helper@v2",
            User = "end-user",
            RequestJson = """[{"role":"user","content":"hi ✓"}]""",
            PromptTokensJson = "[1,2,3]",
            ChoicesJson = """[{"index":0,"tokens":[4,5],"logprobs":[-0.5,-1.25],"text":"ok","finish_reason":"stop"}]""",
            ParamsJson = """{"temperature":0.7}""",
            LatencySeconds = 0.125,
            TimeToFirstTokenSeconds = 0.03125,
        };

    [Fact]
    public async Task ServedCompletionsAndFeedbackRoundTripPerTenantInOrderAndSurviveRestart()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        await store.InsertServedCompletionAsync(Served("c2", 2));
        await store.InsertServedCompletionAsync(Served("c1", 1));
        await store.InsertServedCompletionAsync(Served("c3", 3));
        await store.InsertServedCompletionAsync(Served("x1", 1, tenant: "globex"));
        var rating = new FeedbackRecord("f1", "acme", "c1", "rating", T0) { Rating = 4.5, ChoiceIndex = 0, Comment = "good" };
        var preference = new FeedbackRecord("f2", "acme", "c2", "preference", T0.AddSeconds(1)) { RejectedCompletionId = "c1" };
        var correction = new FeedbackRecord("f3", "globex", "x1", "correction", T0) { Correction = "better ✓", ChoiceIndex = 0 };
        await store.InsertFeedbackAsync(preference);
        await store.InsertFeedbackAsync(rating);
        await store.InsertFeedbackAsync(correction);

        store = await RestartAsync(store);

        Assert.Equal(Served("c1", 1), await store.GetServedCompletionAsync("c1"));
        Assert.Null(await store.GetServedCompletionAsync("nope"));
        Assert.Equal(["c1", "c2", "c3"], (await store.ListServedCompletionsAsync("acme", 10)).Select(c => c.Id));
        Assert.Equal(["c2", "c3"], (await store.ListServedCompletionsAsync("acme", 10, afterId: "c1")).Select(c => c.Id));
        Assert.Equal(["c1"], (await store.ListServedCompletionsAsync("acme", 1)).Select(c => c.Id));
        Assert.Equal(["x1"], (await store.ListServedCompletionsAsync("globex", 10)).Select(c => c.Id));
        Assert.Equal([rating, preference], await store.ListFeedbackAsync("acme", 10));
        Assert.Equal([preference], await store.ListFeedbackAsync("acme", 10, afterId: "f1"));
        Assert.Equal([correction], await store.ListFeedbackAsync("globex", 10));
    }

    [Fact]
    public async Task DeploymentsVersionPerTenantPromoteAndRollBack()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        Assert.True(await store.InsertDeploymentAsync(new DeploymentRecord("acme", "helper", T0, 0)));
        Assert.False(await store.InsertDeploymentAsync(new DeploymentRecord("acme", "helper", T0, 0)));
        Assert.True(await store.InsertDeploymentAsync(new DeploymentRecord("globex", "helper", T0, 0)));
        Assert.Equal(1, await store.PromoteDeploymentAsync("acme", "helper", "whet://a/sampler_weights/1", T0));
        Assert.Equal(2, await store.PromoteDeploymentAsync("acme", "helper", "whet://a/sampler_weights/2", T0.AddSeconds(1)));
        Assert.Equal(1, await store.PromoteDeploymentAsync("globex", "helper", "whet://g/sampler_weights/1", T0));
        Assert.Equal(2, (await store.GetDeploymentAsync("acme", "helper"))!.CurrentVersion);

        Assert.True(await store.SetDeploymentVersionAsync("acme", "helper", 1));
        Assert.False(await store.SetDeploymentVersionAsync("acme", "nobody", 1));
        store = await RestartAsync(store);
        Assert.Equal(new DeploymentRecord("acme", "helper", T0, 1), await store.GetDeploymentAsync("acme", "helper"));
        Assert.Null(await store.GetDeploymentAsync("initech", "helper"));
        Assert.Equal(
            [new DeploymentVersionRecord("acme", "helper", 1, "whet://a/sampler_weights/1", T0), new DeploymentVersionRecord("acme", "helper", 2, "whet://a/sampler_weights/2", T0.AddSeconds(1))],
            await store.ListDeploymentVersionsAsync("acme", "helper"));
        Assert.Equal(["helper"], (await store.ListDeploymentsAsync("globex")).Select(d => d.Name));
        Assert.Equal(3, await store.PromoteDeploymentAsync("acme", "helper", "whet://a/sampler_weights/3", T0));   // numbering continues after a rollback
    }
}
