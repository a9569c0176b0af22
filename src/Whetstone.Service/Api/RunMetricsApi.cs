using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

/// <summary>A run's metrics per step: read (all, or those after index <c>after</c>, for live
/// pages) and recorded by the client (rewards, eval scores). Only the run's tenant sees them.</summary>
internal static class RunMetricsApi
{
    public static void MapRunMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Routes.RunMetrics("{runId}"), async (string runId, HttpContext http, TrainingRunService runs) =>
            Json(await runs.Metrics.ReadAsync(CallerOf(http), runId, After(http))));
        app.MapPost(Routes.RunMetrics("{runId}"), async (string runId, RecordRunMetricsRequest body, HttpContext http, TrainingRunService runs) =>
        {
            await runs.Metrics.RecordAsync(CallerOf(http), runId, body);
            return Results.NoContent();
        });
    }

    static int After(HttpContext http)
    {
        if (!http.Request.Query.TryGetValue("after", out var value)) return 0;
        return int.TryParse(value, out int after) && after >= 0 ? after
            : throw ApiError.BadRequest("after", $"'{value}' must be a whole number of points at least 0");
    }
}
