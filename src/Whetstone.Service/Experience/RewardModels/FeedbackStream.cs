using Whetstone.Service.Persistence;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>A reward model's unread feedback: the tenant's feedback after the model's cursor, in
/// the store's (created_at, id) order, keeping the events on answers the deployment served.
/// Feedback on other deployments' or models' answers is passed over (the cursor moves past it).</summary>
internal static class FeedbackStream
{
    const int Page = 200;

    /// <summary>Up to <paramref name="limit"/> events, and the cursor that consumes exactly them
    /// (and the other deployments' feedback before and among them).</summary>
    public static async Task<(List<FeedbackExample> Events, string? Cursor)> NextAsync(IMetadataStore store, RewardModelRecord model,
        int limit, CorrectionEncoder encode, int maxTokens, CancellationToken ct)
    {
        var events = new List<FeedbackExample>();
        string? cursor = model.Cursor;
        while (events.Count < limit)
        {
            var page = await store.ListFeedbackAsync(model.Tenant, Page, cursor, ct);
            foreach (var f in page)
            {
                if (events.Count == limit) return (events, cursor);
                cursor = f.Id;
                if (await FeedbackExample.FromAsync(store, f, model.Deployment, encode, maxTokens, ct) is { } e) events.Add(e);
            }
            if (page.Count < Page) break;
        }
        return (events, cursor);
    }
}
