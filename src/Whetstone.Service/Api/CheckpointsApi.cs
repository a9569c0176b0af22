using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

/// <summary>Checkpoints by whet:// path (a query parameter), and the caller's usage.</summary>
internal static class CheckpointsApi
{
    public static void MapCheckpointsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Routes.Checkpoints, async (string path, HttpContext http, CheckpointService checkpoints) =>
            Json(await checkpoints.GetAsync(CallerOf(http), path)));
        app.MapDelete(Routes.Checkpoints, async (string path, HttpContext http, CheckpointService checkpoints) =>
        {
            await checkpoints.DeleteAsync(CallerOf(http), path);
            return Results.NoContent();
        });
        app.MapPost(Routes.CheckpointPublish, async (string path, HttpContext http, CheckpointService checkpoints) =>
            Json(await checkpoints.SetPublishedAsync(CallerOf(http), path, true)));
        app.MapPost(Routes.CheckpointUnpublish, async (string path, HttpContext http, CheckpointService checkpoints) =>
            Json(await checkpoints.SetPublishedAsync(CallerOf(http), path, false)));
        app.MapPost(Routes.CheckpointTtl, async (string path, SetCheckpointTtlRequest body, HttpContext http, CheckpointService checkpoints) =>
            Json(await checkpoints.SetTtlAsync(CallerOf(http), path, body)));
        app.MapGet(Routes.CheckpointDownload, async (string path, string? format, HttpContext http, CheckpointService checkpoints) =>
        {
            var zip = await checkpoints.DownloadAsync(CallerOf(http), path, format ?? "peft");
            var stream = new FileStream(zip, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.DeleteOnClose);
            return Results.File(stream, "application/zip", Path.GetFileName(path) + ".zip");
        });
        app.MapGet(Routes.Usage, async (HttpContext http, CheckpointService checkpoints) =>
            Json(await checkpoints.KeyUsageAsync(CallerOf(http))));
    }
}
