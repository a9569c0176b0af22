using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

internal static class SamplingApi
{
    public static void MapSamplingApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.SamplingSessions, async (CreateSamplingSessionRequest body, HttpContext http, ISamplingCalls sessions) =>
            Json(await sessions.CreateAsync(CallerOf(http), body), StatusCodes.Status201Created));
        app.MapPost(Routes.Sample("{sessionId}"), async (string sessionId, SampleRequest body, HttpContext http, ISamplingCalls sessions) =>
            Accepted(await sessions.SampleAsync(CallerOf(http), sessionId, body)));
        app.MapPost(Routes.ComputeLogprobs("{sessionId}"), async (string sessionId, ComputeLogprobsRequest body, HttpContext http, ISamplingCalls sessions) =>
            Accepted(await sessions.ComputeLogprobsAsync(CallerOf(http), sessionId, body)));
        app.MapDelete(Routes.SamplingSession("{sessionId}"), async (string sessionId, HttpContext http, ISamplingCalls sessions) =>
        {
            await sessions.CloseAsync(CallerOf(http), sessionId);
            return Results.NoContent();
        });
    }
}
