using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>One feedback event as the reward model learns it. A labelled event is one sequence
/// (prompt + answer) with a target in [0, 1] for binary_logistic: thumbs up 1, down 0, a rating r
/// on 1–5 the fraction (r − 1)/4 (binary_logistic with a fractional label is a regression of
/// σ(score) onto the scaled rating). A pair is (chosen, rejected) for bradley_terry: a preference,
/// or a correction (the corrected answer ≻ the answer served). User is the completion log's end
/// user (one shared "anonymous" user when the request named none), for the per-user cap.</summary>
internal sealed record FeedbackExample(string FeedbackId, string Kind, string User)
{
    public const string AnonymousUser = "(anonymous)";

    public IReadOnlyList<int>? Sequence { get; init; }
    public float Label { get; init; }
    public IReadOnlyList<int>? Chosen { get; init; }
    public IReadOnlyList<int>? Rejected { get; init; }

    public bool IsPair => Chosen is not null;

    /// <summary>Whether the event says which way the score should go, and so is predicted. A rating at
    /// the scale's centre does not, nor a pair of two identical sequences (two samples that came out
    /// the same answer, which the user still "preferred" on their noise): no score can order them,
    /// and counting them wrong put 89 of the 148 preferences (and 4 corrections) of the eighth session's three-arm run at
    /// "wrong" (ninth session). Both are still trained on (an identical pair's gradients cancel).</summary>
    public bool HasDirection => IsPair ? !Chosen!.SequenceEqual(Rejected!) : Label != 0.5f;

    /// <summary>The prediction's sign is read from this: a labelled event's score (its label's
    /// direction is label − ½), a pair's chosen score minus rejected score.</summary>
    public static double Margin(FeedbackExample e, IReadOnlyList<double> scores) => e.IsPair ? scores[0] - scores[1] : scores[0];

    public static bool Correct(FeedbackExample e, double margin) => e.IsPair ? margin > 0 : margin > 0 == e.Label > 0.5f;

    /// <summary>The sequences to score, in the order <see cref="Margin"/> reads them.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Sequences => IsPair ? [Chosen!, Rejected!] : [Sequence!];

    /// <summary>The example of a feedback record if its completion was served by
    /// <paramref name="deployment"/> (name@vN) for the same tenant; null otherwise.</summary>
    public static async Task<FeedbackExample?> FromAsync(IMetadataStore store, FeedbackRecord f, string deployment,
        CorrectionEncoder encode, int maxTokens, CancellationToken ct)
    {
        var completion = await store.GetServedCompletionAsync(f.CompletionId, ct);
        if (completion is null || completion.Tenant != f.Tenant || !ServedBy(completion, deployment)) return null;
        var prompt = JsonSerializer.Deserialize<int[]>(completion.PromptTokensJson)!;
        var choices = JsonSerializer.Deserialize<ServedChoice[]>(completion.ChoicesJson, ProtocolJson.Options)!;
        if (f.ChoiceIndex >= choices.Length) return null;
        var answer = choices[f.ChoiceIndex];
        var example = new FeedbackExample(f.Id, f.Kind, completion.User ?? AnonymousUser);
        IReadOnlyList<int> Joined(IReadOnlyList<int> a) => Fit([.. prompt, .. a], maxTokens);
        switch (f.Kind)
        {
            case "thumbs_up": return example with { Sequence = Joined(answer.Tokens), Label = 1 };
            case "thumbs_down": return example with { Sequence = Joined(answer.Tokens), Label = 0 };
            case "rating" when f.Rating is double r:
                return example with { Sequence = Joined(answer.Tokens), Label = (float)((r - Serving.FeedbackService.MinRating) / (Serving.FeedbackService.MaxRating - Serving.FeedbackService.MinRating)) };
            case "correction" when f.Correction is not null:
                return example with { Chosen = Joined(encode.Tokens(f.Correction, answer)), Rejected = Joined(answer.Tokens) };
            case "preference" when f.RejectedCompletionId is not null:
                var rejected = await store.GetServedCompletionAsync(f.RejectedCompletionId, ct);
                if (rejected is null || rejected.Tenant != f.Tenant) return null;
                var rejectedPrompt = JsonSerializer.Deserialize<int[]>(rejected.PromptTokensJson)!;
                var rejectedAnswer = JsonSerializer.Deserialize<ServedChoice[]>(rejected.ChoicesJson, ProtocolJson.Options)![0];
                return example with { Chosen = Joined(answer.Tokens), Rejected = Fit([.. rejectedPrompt, .. rejectedAnswer.Tokens], maxTokens) };
            default: return null;
        }
    }

    public static bool ServedBy(ServedCompletionRecord completion, string deployment) =>
        completion.Deployment is { } served && served.StartsWith(deployment + "@", StringComparison.Ordinal);

    // The score is read at the last token, so a sequence over the model's length keeps its end.
    static IReadOnlyList<int> Fit(int[] tokens, int maxTokens) => tokens.Length <= maxTokens ? tokens : tokens[^maxTokens..];
}
