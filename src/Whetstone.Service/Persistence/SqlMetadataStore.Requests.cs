using System.Data.Common;

namespace Whetstone.Service.Persistence;

// Submitted calls and their outcome.
public abstract partial class SqlMetadataStore
{
    private const string RequestColumns = "id, tenant, run_id, kind, status, submitted_at, completed_at, error";

    public Task InsertRequestAsync(RequestRecord request, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            $"INSERT INTO requests ({RequestColumns}) VALUES (@id, @tenant, @run_id, @kind, @status, @submitted, @completed, @error)",
            cancellationToken,
            ("@id", request.Id), ("@tenant", request.Tenant), ("@run_id", request.RunId), ("@kind", request.Kind),
            ("@status", request.Status), ("@submitted", Timestamp(request.SubmittedAt)),
            ("@completed", Timestamp(request.CompletedAt)), ("@error", request.Error));

    /// <summary>Throws <see cref="KeyNotFoundException"/> for an unknown request id.</summary>
    public async Task CompleteRequestAsync(string id, string status, string? error, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        int changed = await ExecuteAsync(
            "UPDATE requests SET status = @status, error = @error, completed_at = @at WHERE id = @id",
            cancellationToken, ("@status", status), ("@error", error), ("@at", Timestamp(at)), ("@id", id));
        if (changed == 0)
            throw new KeyNotFoundException($"Cannot complete request '{id}': no request has that id.");
    }

    public Task<RequestRecord?> GetRequestAsync(string id, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"SELECT {RequestColumns} FROM requests WHERE id = @id", ReadRequest, cancellationToken, ("@id", id));

    private RequestRecord ReadRequest(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), ReadNullableString(reader, 2), reader.GetString(3),
            reader.GetString(4), ReadTimestamp(reader, 5))
        {
            CompletedAt = ReadNullableTimestamp(reader, 6),
            Error = ReadNullableString(reader, 7),
        };
}
