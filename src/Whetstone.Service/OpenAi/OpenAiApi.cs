using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;
using Whetstone.Service.Serving;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.OpenAi;

/// <summary>The OpenAI-compatible routes under /v1: models, completions, chat completions, and
/// the served-completion log and feedback that come with them. Errors here take OpenAI's shape
/// (see <see cref="Api.ErrorHandling"/>).</summary>
internal static class OpenAiApi
{
    public const int MaxPage = 1000;

    public static void MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup(Routes.OpenAiPrefix);
        v1.MapGet(Under(Routes.OpenAiModels), ModelsAsync);
        v1.MapPost(Under(Routes.OpenAiChatCompletions), ChatCompletionAsync);
        v1.MapPost(Under(Routes.OpenAiCompletions), CompletionAsync);
        v1.MapGet(Under(Routes.CompletionLog), async (HttpContext http, IMetadataStore store) =>
            List(await store.ListServedCompletionsAsync(CallerOf(http).Tenant, Limit(http), After(http)), ServedLog.ToProtocol));
        v1.MapGet(Under(Routes.CompletionLogExport), (HttpContext http, IMetadataStore store) =>
            ExportAsync(http, after => store.ListServedCompletionsAsync(CallerOf(http).Tenant, MaxPage, after), r => r.Id, ServedLog.ToProtocol));
        v1.MapPost(Under(Routes.Feedback), async (HttpContext http, FeedbackService feedback) =>
        {
            var (request, _) = await OpenAiBody.ReadAsync<FeedbackRequest>(http.Request);
            var record = ServedLog.ToProtocol(await feedback.SubmitAsync(CallerOf(http), request));
            return TypedResults.Created($"{Routes.Feedback}/{record.Id}", record);
        });
        v1.MapGet(Under(Routes.Feedback), async (HttpContext http, IMetadataStore store) =>
            List(await store.ListFeedbackAsync(CallerOf(http).Tenant, Limit(http), After(http)), ServedLog.ToProtocol));
        v1.MapGet(Under(Routes.FeedbackExport), (HttpContext http, IMetadataStore store) =>
            ExportAsync(http, after => store.ListFeedbackAsync(CallerOf(http).Tenant, MaxPage, after), r => r.Id, ServedLog.ToProtocol));
    }

    /// <summary>POST /v1/chat/completions: read the typed request, check it, serve it.</summary>
    static async Task ChatCompletionAsync(HttpContext http, ICompletionCalls service)
    {
        var (request, body) = await OpenAiBody.ReadAsync<ChatCompletionRequest>(http.Request);
        await service.ServeAsync(http, CallerOf(http), OpenAiRequest.From(request, body), body);
    }

    static async Task CompletionAsync(HttpContext http, ICompletionCalls service)
    {
        var (request, body) = await OpenAiBody.ReadAsync<CompletionRequest>(http.Request);
        await service.ServeAsync(http, CallerOf(http), OpenAiRequest.From(request, body), body);
    }

    static string Under(string route) => route[Routes.OpenAiPrefix.Length..];

    // Base models, the caller's sampler checkpoints (LoRA runs only), and the caller's deployments.
    static async Task<Ok<OpenAiList<ModelCard>>> ModelsAsync(HttpContext http, ServiceContext context)
    {
        var caller = CallerOf(http);
        var data = context.Models.Names.Order().Select(name => new ModelCard(name, 0, "whetstone")).ToList();
        foreach (var run in await context.Store.ListRunsAsync(caller.Tenant))
        {
            if (run.FullFineTuning) continue;
            foreach (var c in await context.Store.ListCheckpointsAsync(run.Id))
                if (c.Kind == CheckpointPath.SamplerWeights) data.Add(new ModelCard(c.Path, c.CreatedAt.ToUnixTimeSeconds(), caller.Tenant));
        }
        foreach (var d in await context.Store.ListDeploymentsAsync(caller.Tenant))
        {
            if (d.CurrentVersion > 0) data.Add(new ModelCard($"{d.Name}@latest", d.CreatedAt.ToUnixTimeSeconds(), caller.Tenant));
            foreach (var v in await context.Store.ListDeploymentVersionsAsync(caller.Tenant, d.Name))
                data.Add(new ModelCard($"{d.Name}@v{v.Version}", v.CreatedAt.ToUnixTimeSeconds(), caller.Tenant));
        }
        return TypedResults.Ok(new OpenAiList<ModelCard>(data));
    }

    static int Limit(HttpContext http)
    {
        int limit = 100;
        if (http.Request.Query.TryGetValue("limit", out var l) && (!int.TryParse(l, out limit) || limit < 1 || limit > MaxPage))
            throw ApiError.BadRequest("limit", $"'{l}' must be an integer from 1 to {MaxPage}");
        return limit;
    }

    static string? After(HttpContext http) => http.Request.Query.TryGetValue("after", out var a) ? a.ToString() : null;

    static Ok<OpenAiList<TOut>> List<TIn, TOut>(IEnumerable<TIn> rows, Func<TIn, TOut> toProtocol) =>
        TypedResults.Ok(new OpenAiList<TOut>(rows.Select(toProtocol).ToArray()));

    // JSON Lines, one record per line, every page of the tenant's records in order.
    static async Task ExportAsync<TIn, TOut>(HttpContext http, Func<string?, Task<IReadOnlyList<TIn>>> page, Func<TIn, string> idOf, Func<TIn, TOut> toProtocol)
    {
        http.Response.ContentType = "application/x-ndjson";
        string? after = null;
        while (true)
        {
            var rows = await page(after);
            foreach (var row in rows) await http.Response.WriteAsync(JsonSerializer.Serialize(toProtocol(row), ProtocolJson.Options) + "\n", http.RequestAborted);
            if (rows.Count < MaxPage) break;
            after = idOf(rows[^1]);
        }
    }
}
