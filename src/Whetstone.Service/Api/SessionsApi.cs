using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

/// <summary>Tinker's sessions: create (the SDK, once per ServiceClient), list (paged ids, newest
/// first) and get (the training runs and samplers a session started).</summary>
internal static class SessionsApi
{
    public static void MapSessionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(SessionRoutes.Sessions, async (CreateSessionRequest body, HttpContext http, ServiceContext context) =>
            Json(await ClientSessions.CreateAsync(context, CallerOf(http), body), StatusCodes.Status201Created));
        app.MapGet(SessionRoutes.Sessions, async (HttpContext http, ServiceContext context) =>
        {
            var page = PageQuery.From(http.Request);
            var (items, cursor) = page.Apply(await ClientSessions.ListAsync(context, CallerOf(http)));
            return Json(new SessionList(items, cursor));
        });
        app.MapGet(SessionRoutes.Sessions + "/{id}", async (string id, HttpContext http, ServiceContext context) =>
            Json(await ClientSessions.GetAsync(context, CallerOf(http), id)));
    }
}
