using System.Text.Json;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;
using Whetstone.Service.Runs;

namespace Whetstone.Service.Serving;

/// <summary>Feedback intake: thumbs up/down, a rating, a correction (a better answer) or a
/// pairwise preference between two completions, each on completions of the caller's own tenant
/// (another tenant's completion id is "not found", as if it did not exist). Stored durably, so
/// served answers and what users thought of them can become SFT, RL or preference data.</summary>
internal sealed class FeedbackService(ServiceContext context)
{
    public static readonly string[] Kinds = ["thumbs_up", "thumbs_down", "rating", "correction", "preference"];
    public const double MinRating = 1, MaxRating = 5;

    public async Task<FeedbackRecord> SubmitAsync(Caller caller, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw ApiError.BadRequest("body", "must be a JSON object");
        string completionId = String(body, "completion_id") ?? throw ApiError.BadRequest("completion_id", "is required");
        string kind = String(body, "type") ?? throw ApiError.BadRequest("type", $"is required: one of {string.Join(", ", Kinds)}");
        if (!Kinds.Contains(kind)) throw ApiError.BadRequest("type", $"'{kind}' must be one of {string.Join(", ", Kinds)}");
        var completion = await OwnedAsync(caller, completionId, "completion_id");
        int choices = JsonDocument.Parse(completion.ChoicesJson).RootElement.GetArrayLength();
        int choice = 0;
        if (body.TryGetProperty("choice_index", out var ci) && ci.ValueKind != JsonValueKind.Null)
            if (ci.ValueKind != JsonValueKind.Number || !ci.TryGetInt32(out choice) || choice < 0 || choice >= choices)
                throw ApiError.BadRequest("choice_index", $"must be an integer in [0, {choices}) for completion '{completionId}'");

        double? rating = null;
        string? correction = null, rejected = null;
        switch (kind)
        {
            case "rating":
                if (!body.TryGetProperty("rating", out var r) || r.ValueKind != JsonValueKind.Number)
                    throw ApiError.BadRequest("rating", $"is required for type rating: a number from {MinRating} to {MaxRating}");
                rating = r.GetDouble();
                if (rating is < MinRating or > MaxRating) throw ApiError.BadRequest("rating", $"= {rating} must be from {MinRating} to {MaxRating}");
                break;
            case "correction":
                correction = String(body, "correction");
                if (string.IsNullOrWhiteSpace(correction)) throw ApiError.BadRequest("correction", "is required for type correction: the better answer's text");
                break;
            case "preference":
                rejected = String(body, "rejected_completion_id")
                    ?? throw ApiError.BadRequest("rejected_completion_id", "is required for type preference: completion_id is preferred over it");
                if (rejected == completionId) throw ApiError.BadRequest("rejected_completion_id", "must differ from completion_id");
                await OwnedAsync(caller, rejected, "rejected_completion_id");
                break;
        }
        var record = new FeedbackRecord("fb_" + Guid.NewGuid().ToString("N"), caller.Tenant, completionId, kind, DateTimeOffset.UtcNow)
        {
            ChoiceIndex = choice, Rating = rating, Correction = correction, RejectedCompletionId = rejected, Comment = String(body, "comment"),
        };
        await context.Store.InsertFeedbackAsync(record);
        return record;
    }

    async Task<ServedCompletionRecord> OwnedAsync(Caller caller, string id, string field)
    {
        var completion = await context.Store.GetServedCompletionAsync(id);
        if (completion is null || completion.Tenant != caller.Tenant)
            throw new ApiError(System.Net.HttpStatusCode.NotFound, "not_found", $"completion '{id}' does not exist", field);
        return completion;
    }

    static string? String(JsonElement body, string name) =>
        !body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString() : throw ApiError.BadRequest(name, "must be a string");
}
