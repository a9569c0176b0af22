using Whetstone.Service.Persistence;

namespace Whetstone.Service.Tests.Persistence;

// The memory list: one tenant's memories, newest first, paged, with the tenant's total.
public abstract partial class MetadataStoreContract
{
    [Fact]
    public async Task MemoryListIsTheTenantsNewestFirstAndPaged()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        for (int i = 0; i < 5; i++)
            Assert.True(await store.InsertMemoryAsync(new MemoryRecord($"mem-{i}", "acme", "tiny", 96, i, 0, T0.AddSeconds(i), T0.AddSeconds(i), """{"spans":[]}""")));
        Assert.True(await store.InsertMemoryAsync(new MemoryRecord("mem-other", "globex", "tiny", 96, 0, 0, T0.AddSeconds(9), T0, """{"spans":[]}""")));

        var (all, total) = await store.ListMemoriesAsync("acme", 100, 0);
        Assert.Equal(5, total);
        Assert.Equal(["mem-4", "mem-3", "mem-2", "mem-1", "mem-0"], all.Select(m => m.Id));
        var (page, pageTotal) = await store.ListMemoriesAsync("acme", 2, 1);
        Assert.Equal(5, pageTotal);
        Assert.Equal(["mem-3", "mem-2"], page.Select(m => m.Id));
        Assert.Equal(all[1], page[0]);   // the whole row, state included
        var (past, _) = await store.ListMemoriesAsync("acme", 2, 5);
        Assert.Empty(past);
        var (theirs, theirTotal) = await store.ListMemoriesAsync("globex", 100, 0);
        Assert.Equal((1, "mem-other"), (theirTotal, theirs.Single().Id));
        Assert.Equal(0, (await store.ListMemoriesAsync("initech", 100, 0)).Total);
    }
}
