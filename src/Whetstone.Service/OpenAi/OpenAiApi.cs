using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Whetstone.Protocol;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;
using Whetstone.Service.Serving;
using static Whetstone.Service.Auth.ApiKeyAuthentication;

namespace Whetstone.Service.OpenAi;

/// <summary>The OpenAI-compatible routes: models, completions, chat completions, and the
/// served-completion log and feedback that come with them. Errors here take OpenAI's shape
/// (see <see cref="Api.ErrorHandling"/>).</summary>
internal static class OpenAiApi
{
    public const int MaxPage = 1000;

    public static void MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Routes.OpenAiModels, async (HttpContext http, ServiceContext context) =>
            Results.Json(await ModelsAsync(http, context)));
        app.MapPost(Routes.OpenAiCompletions, (HttpContext http, OpenAiCompletionService service) => ServeAsync(http, service, chat: false));
        app.MapPost(Routes.OpenAiChatCompletions, (HttpContext http, OpenAiCompletionService service) => ServeAsync(http, service, chat: true));

        app.MapGet(Routes.CompletionLog, async (HttpContext http, ServiceContext context) =>
        {
            var (limit, after) = Page(http);
            var rows = await context.Store.ListServedCompletionsAsync(CallerOf(http).Tenant, limit, after);
            return Results.Json(List(rows.Select(Completion)));
        });
        app.MapGet(Routes.CompletionLogExport, (HttpContext http, ServiceContext context) =>
            ExportAsync(http, after => context.Store.ListServedCompletionsAsync(CallerOf(http).Tenant, MaxPage, after), r => r.Id, Completion));

        app.MapPost(Routes.Feedback, async (HttpContext http, FeedbackService feedback) =>
            Results.Json(Feedback(await feedback.SubmitAsync(CallerOf(http), await BodyAsync(http))), statusCode: StatusCodes.Status201Created));
        app.MapGet(Routes.Feedback, async (HttpContext http, ServiceContext context) =>
        {
            var (limit, after) = Page(http);
            var rows = await context.Store.ListFeedbackAsync(CallerOf(http).Tenant, limit, after);
            return Results.Json(List(rows.Select(Feedback)));
        });
        app.MapGet(Routes.FeedbackExport, (HttpContext http, ServiceContext context) =>
            ExportAsync(http, after => context.Store.ListFeedbackAsync(CallerOf(http).Tenant, MaxPage, after), r => r.Id, Feedback));
    }

    static async Task ServeAsync(HttpContext http, OpenAiCompletionService service, bool chat) =>
        await service.ServeAsync(http, CallerOf(http), OpenAiRequest.Read(await BodyAsync(http), chat));

    static async Task<JsonElement> BodyAsync(HttpContext http)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            return document.RootElement.Clone();
        }
        catch (JsonException e) { throw ApiError.BadRequest("body", $"is not valid JSON: {e.Message}"); }
    }

    // Base models, the caller's sampler checkpoints (LoRA runs only), and the caller's deployments.
    static async Task<JsonObject> ModelsAsync(HttpContext http, ServiceContext context)
    {
        var caller = CallerOf(http);
        var data = new JsonArray();
        JsonObject Model(string id, DateTimeOffset created, string owner) =>
            new() { ["id"] = id, ["object"] = "model", ["created"] = created.ToUnixTimeSeconds(), ["owned_by"] = owner };
        foreach (var name in context.Models.Names.Order()) data.Add(Model(name, DateTimeOffset.UnixEpoch, "whetstone"));
        foreach (var run in await context.Store.ListRunsAsync(caller.Tenant))
        {
            if (run.FullFineTuning) continue;
            foreach (var c in await context.Store.ListCheckpointsAsync(run.Id))
                if (c.Kind == CheckpointPath.SamplerWeights) data.Add(Model(c.Path, c.CreatedAt, caller.Tenant));
        }
        foreach (var d in await context.Store.ListDeploymentsAsync(caller.Tenant))
        {
            if (d.CurrentVersion > 0) data.Add(Model($"{d.Name}@latest", d.CreatedAt, caller.Tenant));
            foreach (var v in await context.Store.ListDeploymentVersionsAsync(caller.Tenant, d.Name))
                data.Add(Model($"{d.Name}@v{v.Version}", v.CreatedAt, caller.Tenant));
        }
        return new JsonObject { ["object"] = "list", ["data"] = data };
    }

    static (int Limit, string? After) Page(HttpContext http)
    {
        int limit = 100;
        if (http.Request.Query.TryGetValue("limit", out var l) && (!int.TryParse(l, out limit) || limit < 1 || limit > MaxPage))
            throw ApiError.BadRequest("limit", $"'{l}' must be an integer from 1 to {MaxPage}");
        return (limit, http.Request.Query.TryGetValue("after", out var a) ? a.ToString() : null);
    }

    static JsonObject List(IEnumerable<JsonObject> rows) =>
        new() { ["object"] = "list", ["data"] = new JsonArray(rows.Select(r => (JsonNode)r).ToArray()) };

    // JSON Lines, one record per line, every page of the tenant's records in order.
    static async Task ExportAsync<T>(HttpContext http, Func<string?, Task<IReadOnlyList<T>>> page, Func<T, string> idOf, Func<T, JsonObject> toJson)
    {
        http.Response.ContentType = "application/x-ndjson";
        string? after = null;
        while (true)
        {
            var rows = await page(after);
            foreach (var row in rows) await http.Response.WriteAsync(toJson(row).ToJsonString() + "\n", http.RequestAborted);
            if (rows.Count < MaxPage) break;
            after = idOf(rows[^1]);
        }
    }

    /// <summary>A log entry as the API and the export show it (ready to become SFT or RL data:
    /// the prompt as sent and as tokens, each choice's tokens, logprobs and text).</summary>
    static JsonObject Completion(ServedCompletionRecord r) => new()
    {
        ["id"] = r.Id,
        ["object"] = "served_completion",
        ["endpoint"] = r.Endpoint,
        ["model"] = r.Model,
        ["base_model"] = r.BaseModel,
        ["checkpoint_path"] = r.CheckpointPath,
        ["deployment"] = r.Deployment,
        ["user"] = r.User,
        ["created_at"] = r.CreatedAt.ToString("O"),
        [r.Endpoint == "completions" ? "prompt" : "messages"] = JsonNode.Parse(r.RequestJson),
        ["prompt_tokens"] = JsonNode.Parse(r.PromptTokensJson),
        ["choices"] = JsonNode.Parse(r.ChoicesJson),
        ["params"] = JsonNode.Parse(r.ParamsJson),
        ["latency_seconds"] = r.LatencySeconds,
        ["time_to_first_token_seconds"] = r.TimeToFirstTokenSeconds,
    };

    static JsonObject Feedback(FeedbackRecord f) => new()
    {
        ["id"] = f.Id,
        ["object"] = "feedback",
        ["completion_id"] = f.CompletionId,
        ["type"] = f.Kind,
        ["choice_index"] = f.ChoiceIndex,
        ["rating"] = f.Rating,
        ["correction"] = f.Correction,
        ["rejected_completion_id"] = f.RejectedCompletionId,
        ["comment"] = f.Comment,
        ["created_at"] = f.CreatedAt.ToString("O"),
    };
}
