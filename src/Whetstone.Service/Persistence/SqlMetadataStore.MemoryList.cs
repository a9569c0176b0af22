namespace Whetstone.Service.Persistence;

// One page of a tenant's memories, newest first (the console's memories list).
public abstract partial class SqlMetadataStore
{
    public async Task<(IReadOnlyList<MemoryRecord> Memories, int Total)> ListMemoriesAsync(string tenant, int limit, int offset,
        CancellationToken cancellationToken = default)
    {
        var total = await QueryAsync("SELECT COUNT(*) FROM memories WHERE tenant = @tenant", r => Convert.ToInt32(r.GetValue(0)),
            cancellationToken, ("@tenant", tenant));
        var page = await QueryAsync(
            $"SELECT {MemoryColumns} FROM memories WHERE tenant = @tenant ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset",
            ReadMemory, cancellationToken, ("@tenant", tenant), ("@limit", limit), ("@offset", offset));
        return (page, total[0]);
    }
}
