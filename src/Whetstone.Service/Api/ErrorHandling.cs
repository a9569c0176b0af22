using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Api;

/// <summary>The one place errors become responses: a status code and
/// {"error": {"code", "message", "field"}} (under /v1, OpenAI's {"error": {"message", "type",
/// "param", "code"}}); 429 carries Retry-After.</summary>
internal sealed partial class ErrorHandling(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http, Runs.ServiceContext context)
    {
        try
        {
            await next(http);
        }
        catch (Exception error) when (!http.Response.HasStarted)
        {
            var (status, detail) = Describe(error);
            http.Response.Clear();
            http.Response.StatusCode = (int)status;
            if (status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) http.Response.Headers.RetryAfter = "1";
            if (status == HttpStatusCode.TooManyRequests)
                context.Meter.Rejected((http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unrouted", detail.Code);
            if (http.Request.Path.StartsWithSegments(Routes.OpenAiPrefix))
                await http.Response.WriteAsJsonAsync(OpenAiError(status, detail), ProtocolJson.Options);
            else
                await http.Response.WriteAsJsonAsync(new ErrorResponse(detail), ProtocolJson.Options);
        }
    }

    // OpenAI's shape, which its SDKs parse, with the problem-details members beside it.
    static OpenAiErrorResponse OpenAiError(HttpStatusCode status, ErrorDetail detail)
    {
        string type = status switch
        {
            HttpStatusCode.Unauthorized => "authentication_error",
            HttpStatusCode.TooManyRequests => "rate_limit_error",
            >= HttpStatusCode.InternalServerError => "server_error",
            _ => "invalid_request_error",
        };
        return new OpenAiErrorResponse(new OpenAiError(detail.Message, type, detail.Field, detail.Code))
        {
            Title = type, Status = (int)status, Detail = detail.Message,
        };
    }

    static (HttpStatusCode, ErrorDetail) Describe(Exception error)
    {
        if (error is BadHttpRequestException bad)
        {
            var json = bad.InnerException as JsonException;
            string field = json?.Path is { } p ? p.TrimStart('$', '.') : "body";
            return (HttpStatusCode.BadRequest, new ErrorDetail("invalid_json", json?.Message ?? bad.Message) { Field = field.Length == 0 ? "body" : field });
        }
        // System.Text.Json refuses a polymorphic object without its discriminator (a prompt chunk
        // without "type") with NotSupportedException, which the body binding does not wrap: it is
        // still the client's body that is wrong, at the path the message names.
        if (error is NotSupportedException unsupported && unsupported.Source == "System.Text.Json")
        {
            var path = JsonPathInMessage().Match(unsupported.Message);
            string field = path.Success ? path.Groups[1].Value.TrimStart('$', '.') : "";
            return (HttpStatusCode.BadRequest, new ErrorDetail("invalid_json", unsupported.Message) { Field = (field.Length == 0 ? "body" : field)
                + (unsupported.Message.Contains("type discriminator", StringComparison.Ordinal) ? ".type" : "") });
        }
        return (RequestFutures.StatusOf(error), RequestFutures.Describe(error));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Path: (\$[^ |]*)")]
    private static partial System.Text.RegularExpressions.Regex JsonPathInMessage();
}
