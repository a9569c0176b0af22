using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

/// <summary>Training runs: create, inspect, and the calls that return futures.</summary>
internal static class TrainingApi
{
    public static void MapTrainingApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.TrainingRuns, async (CreateTrainingRunRequest body, HttpContext http, IRunCalls runs) =>
            Json(await runs.CreateAsync(CallerOf(http), body), StatusCodes.Status201Created));
        app.MapPost(Routes.TrainingRunsFromState, async (CreateTrainingRunFromStateRequest body, HttpContext http, IRunCalls runs) =>
            Json(await runs.CreateFromStateAsync(CallerOf(http), body), StatusCodes.Status201Created));
        app.MapPost(Routes.TrainingRunsImportPeft, async (ImportPeftAdapterRequest body, HttpContext http, TrainingRunService runs) =>
            Json(await runs.ImportPeftAsync(CallerOf(http), body), StatusCodes.Status201Created));
        // Queue depth and cycle traffic span every tenant: admins only.
        app.MapGet(Routes.Metrics, (HttpContext http, ServiceContext context) => CallerOf(http).IsAdmin
            ? Json(context.Metrics())
            : throw new ApiError(System.Net.HttpStatusCode.Forbidden, "forbidden", "scheduler metrics need an admin key"));
        app.MapGet(Routes.TrainingRuns, async (HttpContext http, TrainingRunService runs) =>
        {
            var page = PageQuery.From(http.Request);
            var (items, cursor) = page.Apply(await runs.ListAsync(CallerOf(http)));
            return Json(new TrainingRunList(items) { Cursor = cursor });
        });
        app.MapGet(Routes.TrainingRun("{runId}"), async (string runId, HttpContext http, IRunCalls runs) =>
            Json(await runs.InfoAsync(CallerOf(http), runId)));

        app.MapPost(Routes.Forward("{runId}"), async (string runId, ForwardBackwardRequest body, HttpContext http, IRunCalls runs) =>
            Accepted(await runs.ForwardAsync(CallerOf(http), runId, body, backward: false)));
        app.MapPost(Routes.ForwardBackward("{runId}"), async (string runId, ForwardBackwardRequest body, HttpContext http, IRunCalls runs) =>
            Accepted(await runs.ForwardAsync(CallerOf(http), runId, body, backward: true)));
        app.MapPost(Routes.OptimStep("{runId}"), async (string runId, OptimStepRequest body, HttpContext http, IRunCalls runs) =>
            Accepted(await runs.OptimStepAsync(CallerOf(http), runId, body)));
        app.MapPost(Routes.Score("{runId}"), async (string runId, ScoreRequest body, HttpContext http, IRunCalls runs) =>
            Accepted(await runs.ScoreAsync(CallerOf(http), runId, body)));
        app.MapPost(Routes.SaveState("{runId}"), async (string runId, SaveStateRequest body, HttpContext http, IRunCalls runs) =>
            Accepted(await runs.SaveAsync(CallerOf(http), runId, body, CheckpointPath.Weights)));
        app.MapPost(Routes.SaveWeightsForSampler("{runId}"), async (string runId, SaveStateRequest body, HttpContext http, IRunCalls runs) =>
            Accepted(await runs.SaveAsync(CallerOf(http), runId, body, CheckpointPath.SamplerWeights)));
        app.MapPost(Routes.LoadState("{runId}"), async (string runId, LoadStateRequest body, HttpContext http, IRunCalls runs) =>
            Accepted(await runs.LoadStateAsync(CallerOf(http), runId, body)));

        app.MapGet(Routes.RunCheckpoints("{runId}"), async (string runId, HttpContext http, CheckpointService checkpoints) =>
        {
            var page = PageQuery.From(http.Request);
            var (items, cursor) = page.Apply((await checkpoints.ListAsync(CallerOf(http), runId)).Checkpoints);
            return Json(new CheckpointList(items) { Cursor = cursor });
        });
        app.MapGet(Routes.RunUsage("{runId}"), async (string runId, HttpContext http, CheckpointService checkpoints) =>
            Json(await checkpoints.RunUsageAsync(CallerOf(http), runId)));
    }

    public static IResult Json<T>(T value, int status = StatusCodes.Status200OK) =>
        Results.Json(value, ProtocolJson.Options, statusCode: status);

    public static IResult Accepted(UntypedFuture future) => Json(future, StatusCodes.Status202Accepted);
}
