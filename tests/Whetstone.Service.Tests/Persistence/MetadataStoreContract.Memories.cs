using Whetstone.Service.Persistence;

namespace Whetstone.Service.Tests.Persistence;

// Memory Diffusion memories: tenant-scoped rows, a turn's state and log written together, deleted together.
public abstract partial class MetadataStoreContract
{
    [Fact]
    public async Task MemoriesAreTenantScopedAndTheirTurnsAndLogsPersist()
    {
        SkipWhenOptedOut();
        var store = await OpenAsync();
        var memory = new MemoryRecord("mem-1", "acme", "tiny", 96, 7, 0, T0, T0, """{"spans":[]}""");
        Assert.True(await store.InsertMemoryAsync(memory));
        Assert.False(await store.InsertMemoryAsync(memory with { Tenant = "globex" }));
        Assert.Null(await store.GetMemoryAsync("globex", "mem-1"));

        var turn1 = memory with { Turn = 1, UpdatedAt = T0.AddSeconds(1), StateJson = """{"spans":[{"id":"t1"}]}""" };
        Assert.True(await store.SaveMemoryTurnAsync(turn1,
            [new MemoryOperationRecord("mem-1", 0, 1, "add", "t1", "12 tokens", T0), new MemoryOperationRecord("mem-1", 0, 1, "turn", null, "12/96", T0)]));
        Assert.True(await store.SaveMemoryTurnAsync(turn1 with { Turn = 2 }, [new MemoryOperationRecord("mem-1", 0, 2, "drop", "t1", "", T0.AddSeconds(2))]));
        Assert.False(await store.SaveMemoryTurnAsync(turn1 with { Tenant = "globex" }, []));   // not globex's to write

        store = await RestartAsync(store);
        Assert.Equal(turn1 with { Turn = 2 }, await store.GetMemoryAsync("acme", "mem-1"));
        var log = await store.ListMemoryOperationsAsync("mem-1", 10);
        Assert.Equal([(1L, "add"), (2L, "turn"), (3L, "drop")], log.Select(o => (o.Sequence, o.Operation)));
        Assert.Equal([(2L, "turn"), (3L, "drop")], (await store.ListMemoryOperationsAsync("mem-1", 2)).Select(o => (o.Sequence, o.Operation)));
        Assert.Null(log[1].SpanId);

        Assert.False(await store.DeleteMemoryAsync("globex", "mem-1"));
        Assert.True(await store.DeleteMemoryAsync("acme", "mem-1"));
        Assert.Null(await store.GetMemoryAsync("acme", "mem-1"));
        Assert.Empty(await store.ListMemoryOperationsAsync("mem-1", 10));
        Assert.False(await store.SaveMemoryTurnAsync(turn1, [new MemoryOperationRecord("mem-1", 0, 3, "add", "t3", "", T0)]));
        Assert.Empty(await store.ListMemoryOperationsAsync("mem-1", 10));
    }
}
