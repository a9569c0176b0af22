using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Api;
using Whetstone.Service.Runs;
using static Whetstone.Service.Api.TrainingApi;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.Memory;

/// <summary>GET /api/v1/memories?limit=&amp;offset=: the caller's memories, newest first, paged in
/// the database (only the page's states are read). Without a limit a page holds
/// <see cref="ListingRoutes.MaxLimit"/> at most, so the answer stays bounded.</summary>
internal static class MemoryListApi
{
    public static void MapMemoryListApi(this IEndpointRouteBuilder app) =>
        app.MapGet(ListingRoutes.Memories, async (HttpContext http, ServiceContext context) =>
        {
            var page = PageQuery.From(http.Request);
            int limit = page.Limit ?? ListingRoutes.MaxLimit;
            var (records, total) = await context.Store.ListMemoriesAsync(CallerOf(http).Tenant, limit, page.Offset, http.RequestAborted);
            var summaries = records.Select(MemoryStateJson.FromRecord)
                .Select(m => new MemorySummary(m.Id, m.BaseModel, m.BudgetTokens, m.Turn, m.TokenCount, m.Spans.Count, m.CreatedAt, m.UpdatedAt))
                .ToArray();
            return Json(new MemoryList(summaries, new Cursor(page.Offset, limit, total)));
        });
}
