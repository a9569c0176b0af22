using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;

namespace Whetstone.Service.Api;

internal static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder app) =>
        app.MapGet(Routes.Health, (BaseModelRegistry models) => Json(new HealthResponse("ok", models.Names.ToArray())));
}
