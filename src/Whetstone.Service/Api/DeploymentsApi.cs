using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Serving;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

/// <summary>Deployment aliases: create, promote a checkpoint, roll back, list versions.</summary>
internal static class DeploymentsApi
{
    public static void MapDeploymentsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.Deployments, async (CreateDeploymentRequest body, HttpContext http, DeploymentService deployments) =>
            Json(await deployments.CreateAsync(CallerOf(http), body), StatusCodes.Status201Created));
        app.MapGet(Routes.Deployments, async (HttpContext http, DeploymentService deployments) =>
            Json(await deployments.ListAsync(CallerOf(http))));
        app.MapGet(Routes.Deployment("{name}"), async (string name, HttpContext http, DeploymentService deployments) =>
            Json(await deployments.GetAsync(CallerOf(http), name)));
        app.MapPost(Routes.DeploymentPromote("{name}"), async (string name, PromoteDeploymentRequest body, HttpContext http, DeploymentService deployments) =>
            Json(await deployments.PromoteAsync(CallerOf(http), name, body)));
        app.MapPost(Routes.DeploymentRollback("{name}"), async (string name, RollbackDeploymentRequest body, HttpContext http, DeploymentService deployments) =>
            Json(await deployments.RollbackAsync(CallerOf(http), name, body)));
        app.MapPost(Routes.DeploymentTraffic("{name}"), async (string name, SetDeploymentTrafficRequest body, HttpContext http, DeploymentService deployments) =>
            Json(await deployments.SetTrafficAsync(CallerOf(http), name, body)));
    }
}
