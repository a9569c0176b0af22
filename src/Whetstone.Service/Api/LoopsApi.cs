using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Loops;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

/// <summary>Experiential loops on deployments: create, list, read, change or pause/resume, delete, lineage.</summary>
internal static class LoopsApi
{
    public static void MapLoopsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.Loops, async (CreateLoopRequest body, HttpContext http, LoopService loops) =>
            Json(await loops.CreateAsync(CallerOf(http), body), StatusCodes.Status201Created));
        app.MapGet(Routes.Loops, async (HttpContext http, LoopService loops) => Json(await loops.ListAsync(CallerOf(http))));
        app.MapGet(Routes.Loop("{id}"), async (string id, HttpContext http, LoopService loops) => Json(await loops.GetAsync(CallerOf(http), id)));
        app.MapPatch(Routes.Loop("{id}"), async (string id, UpdateLoopRequest body, HttpContext http, LoopService loops) =>
            Json(await loops.UpdateAsync(CallerOf(http), id, body)));
        app.MapDelete(Routes.Loop("{id}"), async (string id, HttpContext http, LoopService loops) =>
        {
            await loops.DeleteAsync(CallerOf(http), id);
            return Results.NoContent();
        });
        app.MapGet(Routes.LoopLineage("{id}"), async (string id, HttpContext http, LoopService loops) =>
            Json(await loops.LineageAsync(CallerOf(http), id)));
    }
}
