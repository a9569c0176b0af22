using System.Text.Json;

namespace Whetstone.Protocol;

/// <summary>What every call that does model work answers at once: the id to fetch its result by.</summary>
public sealed record UntypedFuture(string RequestId);

public enum FutureStatus { Pending, Done, Failed }

/// <summary>GET /api/v1/futures/{id}?timeout_seconds=N answers this: pending until the work is
/// done (long-poll), then the result or the error.</summary>
public sealed record FutureResponse(string RequestId, FutureStatus Status)
{
    public JsonElement? Result { get; init; }
    public ErrorDetail? Error { get; init; }
}

/// <summary>Every error body: {"error": {"code": "...", "message": "...", "field": "..."}}.</summary>
public sealed record ErrorResponse(ErrorDetail Error);

public sealed record ErrorDetail(string Code, string Message)
{
    /// <summary>The request field at fault, e.g. "data[2].loss_fn_inputs.weights".</summary>
    public string? Field { get; init; }
}
