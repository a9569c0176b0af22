using System.Net;
using Whetstone.Protocol;

namespace Whetstone.Client;

/// <summary>
/// The server refused a request or a submitted piece of work failed. <see cref="Code"/> is the
/// machine-readable reason (e.g. "invalid_argument", "not_found"), <see cref="Field"/> the
/// request field at fault where there is one (e.g. "data[2].loss_fn_inputs.weights").
/// </summary>
public sealed class WhetstoneApiException : Exception
{
    public WhetstoneApiException(HttpStatusCode? statusCode, ErrorDetail error)
        : base(Describe(statusCode, error))
    {
        StatusCode = statusCode;
        Error = error;
    }

    /// <summary>The HTTP status of the error answer; null when the error is that of a future
    /// whose work failed after it was accepted.</summary>
    public HttpStatusCode? StatusCode { get; }

    public ErrorDetail Error { get; }

    public string Code => Error.Code;

    public string? Field => Error.Field;

    static string Describe(HttpStatusCode? statusCode, ErrorDetail error)
    {
        var status = statusCode is { } s ? $"{(int)s} " : "";
        var field = error.Field is { } f ? $" (field {f})" : "";
        return $"{status}{error.Code}: {error.Message}{field}";
    }
}
