using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

internal static class FuturesApi
{
    /// <summary>Long-poll for a result: waits up to timeout_seconds (default 30, at most 300).</summary>
    public static void MapFuturesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Routes.Future("{requestId}"), async (string requestId, double? timeout_seconds, HttpContext http, ServiceContext context) =>
        {
            double seconds = timeout_seconds ?? 30;
            if (double.IsNaN(seconds) || seconds < 0 || seconds > 300) throw ApiError.BadRequest("timeout_seconds", $"= {seconds} must be between 0 and 300");
            return Json(await context.Futures.WaitAsync(requestId, CallerOf(http), TimeSpan.FromSeconds(seconds), http.RequestAborted));
        });
    }
}
