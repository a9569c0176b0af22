using System.Net;

namespace Whetstone.Service;

/// <summary>A request the service refuses: the HTTP status, a stable code, a message naming the
/// field and the reason. Thrown before any state changes; turned into an ErrorResponse body.</summary>
public sealed class ApiError(HttpStatusCode status, string code, string message, string? field = null) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
    public string Code { get; } = code;
    public string? Field { get; } = field;

    public static ApiError NotFound(string what, string id) =>
        new(HttpStatusCode.NotFound, "not_found", $"{what} '{id}' does not exist");

    public static ApiError BadRequest(string field, string reason) =>
        new(HttpStatusCode.BadRequest, "invalid_request", $"{field} {reason}", field);

    public static ApiError Conflict(string message) => new(HttpStatusCode.Conflict, "conflict", message);
}
