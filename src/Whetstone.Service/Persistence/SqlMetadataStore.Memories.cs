using System.Data.Common;

namespace Whetstone.Service.Persistence;

// Memory Diffusion memories (one row each, state as JSON) and their operation logs.
public abstract partial class SqlMetadataStore
{
    private const string MemoryColumns = "id, tenant, base_model, budget_tokens, seed, turn, created_at, updated_at, state_json";

    public async Task<bool> InsertMemoryAsync(MemoryRecord m, CancellationToken cancellationToken = default) =>
        await ExecuteAsync(
            $"""
            INSERT INTO memories ({MemoryColumns}) VALUES (@id, @tenant, @base_model, @budget, @seed, @turn, @created, @updated, @state)
            ON CONFLICT (id) DO NOTHING
            """,
            cancellationToken, ("@id", m.Id), ("@tenant", m.Tenant), ("@base_model", m.BaseModel), ("@budget", m.BudgetTokens),
            ("@seed", m.Seed), ("@turn", m.Turn), ("@created", Timestamp(m.CreatedAt)), ("@updated", Timestamp(m.UpdatedAt)), ("@state", m.StateJson)) > 0;

    public Task<MemoryRecord?> GetMemoryAsync(string tenant, string id, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {MemoryColumns} FROM memories WHERE id = @id AND tenant = @tenant", ReadMemory, cancellationToken,
            ("@id", id), ("@tenant", tenant));

    public async Task<bool> SaveMemoryTurnAsync(MemoryRecord m, IReadOnlyList<MemoryOperationRecord> operations, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int changed = await ExecuteAsync(connection, transaction,
            "UPDATE memories SET budget_tokens = @budget, turn = @turn, updated_at = @updated, state_json = @state WHERE id = @id AND tenant = @tenant",
            cancellationToken, ("@budget", m.BudgetTokens), ("@turn", m.Turn), ("@updated", Timestamp(m.UpdatedAt)), ("@state", m.StateJson),
            ("@id", m.Id), ("@tenant", m.Tenant));
        if (changed == 0) return false;   // deleted meanwhile: its log goes with it
        foreach (var op in operations)
            await ExecuteAsync(connection, transaction,
                """
                INSERT INTO memory_operations (memory_id, sequence, turn, operation, span_id, detail, at)
                SELECT @memory, COALESCE(MAX(sequence), 0) + 1, @turn, @operation, @span, @detail, @at FROM memory_operations WHERE memory_id = @memory
                """,
                cancellationToken, ("@memory", m.Id), ("@turn", op.Turn), ("@operation", op.Operation), ("@span", op.SpanId),
                ("@detail", op.Detail), ("@at", Timestamp(op.At)));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<MemoryOperationRecord>> ListMemoryOperationsAsync(string memoryId, int limit, CancellationToken cancellationToken = default)
    {
        var newestFirst = await QueryAsync(
            "SELECT memory_id, sequence, turn, operation, span_id, detail, at FROM memory_operations WHERE memory_id = @memory ORDER BY sequence DESC LIMIT @limit",
            r => new MemoryOperationRecord(r.GetString(0), r.GetInt64(1), r.GetInt32(2), r.GetString(3), ReadNullableString(r, 4), r.GetString(5), ReadTimestamp(r, 6)),
            cancellationToken, ("@memory", memoryId), ("@limit", limit));
        return newestFirst.Reverse().ToArray();
    }

    public async Task<bool> DeleteMemoryAsync(string tenant, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int deleted = await ExecuteAsync(connection, transaction, "DELETE FROM memories WHERE id = @id AND tenant = @tenant", cancellationToken,
            ("@id", id), ("@tenant", tenant));
        if (deleted > 0)
            await ExecuteAsync(connection, transaction, "DELETE FROM memory_operations WHERE memory_id = @id", cancellationToken, ("@id", id));
        await transaction.CommitAsync(cancellationToken);
        return deleted > 0;
    }

    private MemoryRecord ReadMemory(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetInt32(4), r.GetInt32(5), ReadTimestamp(r, 6), ReadTimestamp(r, 7), r.GetString(8));
}
