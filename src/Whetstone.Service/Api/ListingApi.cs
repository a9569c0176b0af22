using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Api;

/// <summary>Lists across runs and checkpoint facts by path: Tinker's list_user_checkpoints
/// (paged by ?limit=&amp;offset=) and weights info.</summary>
internal static class ListingApi
{
    public static void MapListingApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(ListingRoutes.UserCheckpoints, async (HttpContext http, ServiceContext context) =>
        {
            var page = PageQuery.From(http.Request);
            var (items, cursor) = page.Apply(await CheckpointListing.ListUserAsync(context, CallerOf(http)));
            return Json(new UserCheckpointList(items, cursor));
        });
        app.MapGet(ListingRoutes.WeightsInfo, async (string path, HttpContext http, ServiceContext context) =>
            Json(await CheckpointListing.WeightsInfoAsync(context, CallerOf(http), path)));
    }
}
