using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>logit_bias and the presence/frequency penalties reach the decode loop from /v1.</summary>
public class OpenAiLogitControlTests
{
    static readonly int[] Prompt = [11, 12, 13, 14, 15, 16];

    [Fact]
    public async Task LogitBiasForcesAndBansTokensAndPenaltiesChangeAGreedyCompletion()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "pen");
        async Task<int[]> TokensAsync(object extra)
        {
            var body = new Dictionary<string, object> { ["model"] = TestServers.ModelName, ["prompt"] = Prompt, ["max_tokens"] = 10, ["temperature"] = 0 };
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra)!;
            var response = await client.PostAsync(Routes.OpenAiCompletions, body);
            return OpenAiTestClient.Tokens(await client.LoggedAsync((string)response["id"]!));
        }

        var plain = await TokensAsync(new { });
        Assert.All(await TokensAsync(new { logit_bias = new Dictionary<string, int> { ["42"] = 100 } }), t => Assert.Equal(42, t));
        int first = plain[0];
        var banned = await TokensAsync(new { logit_bias = new Dictionary<string, int> { [first.ToString()] = -100 } });
        Assert.DoesNotContain(first, banned);
        // Greedy output repeats itself on this tiny model; a maximal frequency penalty breaks the repeats.
        Assert.True(plain.Distinct().Count() < plain.Length, $"the plain completion has no repeat: {string.Join(",", plain)}");
        var penalised = await TokensAsync(new { frequency_penalty = 2.0, presence_penalty = 2.0 });
        Assert.True(penalised.Distinct().Count() > plain.Distinct().Count(), $"{string.Join(",", penalised)} vs {string.Join(",", plain)}");
    }
}
