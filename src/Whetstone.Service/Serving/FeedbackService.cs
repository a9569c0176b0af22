using System.Text.Json;
using Whetstone.Protocol.OpenAi;
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

    public async Task<FeedbackRecord> SubmitAsync(Caller caller, FeedbackRequest body)
    {
        string completionId = body.CompletionId ?? throw ApiError.BadRequest("completion_id", "is required");
        string kind = body.Type ?? throw ApiError.BadRequest("type", $"is required: one of {string.Join(", ", Kinds)}");
        if (!Kinds.Contains(kind)) throw ApiError.BadRequest("type", $"'{kind}' must be one of {string.Join(", ", Kinds)}");
        var completion = await OwnedAsync(caller, completionId, "completion_id");
        int choices = JsonDocument.Parse(completion.ChoicesJson).RootElement.GetArrayLength();
        int choice = body.ChoiceIndex ?? 0;
        if (choice < 0 || choice >= choices)
            throw ApiError.BadRequest("choice_index", $"= {choice} must be an integer in [0, {choices}) for completion '{completionId}'");

        switch (kind)
        {
            case "rating" when body.Rating is null:
                throw ApiError.BadRequest("rating", $"is required for type rating: a number from {MinRating} to {MaxRating}");
            case "rating" when body.Rating is < MinRating or > MaxRating:
                throw ApiError.BadRequest("rating", $"= {body.Rating} must be from {MinRating} to {MaxRating}");
            case "correction" when string.IsNullOrWhiteSpace(body.Correction):
                throw ApiError.BadRequest("correction", "is required for type correction: the better answer's text");
            case "preference" when body.RejectedCompletionId is null:
                throw ApiError.BadRequest("rejected_completion_id", "is required for type preference: completion_id is preferred over it");
            case "preference" when body.RejectedCompletionId == completionId:
                throw ApiError.BadRequest("rejected_completion_id", "must differ from completion_id");
            case "preference":
                await OwnedAsync(caller, body.RejectedCompletionId!, "rejected_completion_id");
                break;
        }
        var record = new FeedbackRecord("fb_" + Guid.NewGuid().ToString("N"), caller.Tenant, completionId, kind, DateTimeOffset.UtcNow)
        {
            ChoiceIndex = choice,
            Rating = kind == "rating" ? body.Rating : null,
            Correction = kind == "correction" ? body.Correction : null,
            RejectedCompletionId = kind == "preference" ? body.RejectedCompletionId : null,
            Comment = body.Comment,
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
}
