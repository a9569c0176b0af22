using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Memory;

/// <summary>GET /api/v1/memories/{id} (spans, scores, operation log) and DELETE; another tenant's id is 404.</summary>
internal static class MemoriesApi
{
    public static void MapMemoriesApi(this IEndpointRouteBuilder app)
    {
        app.MapMemoryListApi();
        app.MapGet(Routes.Memory("{id}"), async (string id, HttpContext http, MemoryService memories) =>
            Json(await memories.GetAsync(CallerOf(http), id)));
        app.MapDelete(Routes.Memory("{id}"), async (string id, HttpContext http, MemoryService memories) =>
        {
            await memories.DeleteAsync(CallerOf(http), id);
            return Results.NoContent();
        });
    }
}
