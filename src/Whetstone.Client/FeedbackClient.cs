using System.Runtime.CompilerServices;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;

namespace Whetstone.Client;

/// <summary>
/// Feedback on served completions of the caller's tenant (ids from the completion log or the
/// OpenAI response's id): thumbs up or down, a rating from 1 to 5, a correction (the better
/// answer's text) or a preference of one completion over another. A deployment's reward model
/// learns from it (<see cref="RewardModelsClient"/>).
/// </summary>
public sealed class FeedbackClient
{
    readonly ITransport _transport;

    internal FeedbackClient(ITransport transport) => _transport = transport;

    public Task<Feedback> ThumbsUpAsync(string completionId, int choiceIndex = 0, string? comment = null, CancellationToken cancellationToken = default) =>
        SubmitAsync(new FeedbackRequest { CompletionId = completionId, Type = "thumbs_up", ChoiceIndex = choiceIndex, Comment = comment }, cancellationToken);

    public Task<Feedback> ThumbsDownAsync(string completionId, int choiceIndex = 0, string? comment = null, CancellationToken cancellationToken = default) =>
        SubmitAsync(new FeedbackRequest { CompletionId = completionId, Type = "thumbs_down", ChoiceIndex = choiceIndex, Comment = comment }, cancellationToken);

    /// <summary>A rating from 1 (worst) to 5 (best).</summary>
    public Task<Feedback> RateAsync(string completionId, double rating, int choiceIndex = 0, string? comment = null, CancellationToken cancellationToken = default) =>
        SubmitAsync(new FeedbackRequest { CompletionId = completionId, Type = "rating", Rating = rating, ChoiceIndex = choiceIndex, Comment = comment }, cancellationToken);

    /// <summary>The answer the user would have wanted instead of the one served.</summary>
    public Task<Feedback> CorrectAsync(string completionId, string correction, int choiceIndex = 0, string? comment = null, CancellationToken cancellationToken = default) =>
        SubmitAsync(new FeedbackRequest { CompletionId = completionId, Type = "correction", Correction = correction, ChoiceIndex = choiceIndex, Comment = comment }, cancellationToken);

    /// <summary><paramref name="chosenCompletionId"/>'s answer is preferred over <paramref name="rejectedCompletionId"/>'s.</summary>
    public Task<Feedback> PreferAsync(string chosenCompletionId, string rejectedCompletionId, int choiceIndex = 0, string? comment = null,
        CancellationToken cancellationToken = default) =>
        SubmitAsync(new FeedbackRequest { CompletionId = chosenCompletionId, Type = "preference", RejectedCompletionId = rejectedCompletionId, ChoiceIndex = choiceIndex, Comment = comment },
            cancellationToken);

    /// <summary>Any feedback request as the protocol spells it.</summary>
    public Task<Feedback> SubmitAsync(FeedbackRequest request, CancellationToken cancellationToken = default) =>
        _transport.PostAsync<FeedbackRequest, Feedback>(Routes.Feedback, request, cancellationToken);

    /// <summary>Up to <paramref name="limit"/> records after <paramref name="after"/> (exclusive), oldest first.</summary>
    public async Task<IReadOnlyList<Feedback>> ListAsync(int limit = 100, string? after = null, CancellationToken cancellationToken = default) =>
        (await _transport.GetAsync<OpenAiList<Feedback>>(Paged.Path(Routes.Feedback, limit, after), cancellationToken).ConfigureAwait(false)).Data;

    /// <summary>Every record, page by page; <paramref name="type"/> keeps one kind (filtered here).</summary>
    public async IAsyncEnumerable<Feedback> ListAllAsync(string? type = null, int pageSize = 200, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var f in Paged.AllAsync((limit, after, ct) => ListAsync(limit, after, ct), f => f.Id, pageSize, cancellationToken).ConfigureAwait(false))
            if (type is null || f.Type == type) yield return f;
    }

    /// <summary>The JSON Lines export (one <see cref="Feedback"/> per line); dispose the stream.</summary>
    public Task<Stream> ExportAsync(CancellationToken cancellationToken = default) =>
        _transport.DownloadAsync(Routes.FeedbackExport, cancellationToken);
}
