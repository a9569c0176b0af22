using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Experience.RewardModels;

/// <summary>Corrections as supervised examples for the policy: the prompt the deployment answered
/// and the better answer the user wrote, tokenized as the reward model trains on it.</summary>
internal static class Corrections
{
    const int Page = 500;

    public static async Task<IReadOnlyList<CorrectionExample>> ListAsync(IMetadataStore store, string tenant, string deployment,
        CorrectionEncoder encode, CancellationToken ct)
    {
        var examples = new List<CorrectionExample>();
        string? after = null;
        while (true)
        {
            var page = await store.ListFeedbackAsync(tenant, Page, after, ct);
            foreach (var f in page)
            {
                if (f.Kind != "correction" || f.Correction is null) continue;
                var completion = await store.GetServedCompletionAsync(f.CompletionId, ct);
                if (completion is null || completion.Tenant != tenant || !FeedbackExample.ServedBy(completion, deployment)) continue;
                var choices = JsonSerializer.Deserialize<ServedChoice[]>(completion.ChoicesJson, ProtocolJson.Options)!;
                if (f.ChoiceIndex >= choices.Length) continue;
                examples.Add(new CorrectionExample(f.Id, f.CompletionId, JsonSerializer.Deserialize<int[]>(completion.PromptTokensJson)!, f.Correction,
                    encode.Tokens(f.Correction, choices[f.ChoiceIndex])) { Original = choices[f.ChoiceIndex].Text });
            }
            if (page.Count < Page) return examples;
            after = page[^1].Id;
        }
    }
}
