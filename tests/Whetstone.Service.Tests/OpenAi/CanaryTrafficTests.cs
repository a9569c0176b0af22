using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>Canary splits of name@latest: about the asked share of users reach the candidate, each
/// user always the same arm, the log says which arm answered, and promote → rollback gives back
/// exactly the answers from before.</summary>
public class CanaryTrafficTests
{
    static readonly int[] Prompt = [11, 12, 13, 14, 15, 16];

    static object Greedy(string model, string? user = null) => new { model, prompt = Prompt, max_tokens = 8, temperature = 0.0, user };

    static async Task<(string Tokens, JsonObject Logged)> AskAsync(OpenAiTestClient client, string model, string? user = null)
    {
        var response = await client.PostAsync(Routes.OpenAiCompletions, Greedy(model, user));
        var logged = await client.LoggedAsync((string)response["id"]!);
        return (string.Join(",", OpenAiTestClient.Tokens(logged)), logged);
    }

    [Fact]
    public async Task ASplitSendsAboutItsShareOfUsersToTheCandidateAlwaysTheSameArmPerUser()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "carol");
        var stable = await client.TrainedAdapterAsync(seed: 1);
        var candidate = await client.TrainedAdapterAsync(seed: 2);
        var stableTokens = (await AskAsync(client, stable)).Tokens;
        var candidateTokens = (await AskAsync(client, candidate)).Tokens;
        Assert.NotEqual(stableTokens, candidateTokens);

        await client.PostAsync(Routes.Deployments, new { name = "helper", checkpoint = stable });
        await client.PostAsync(Routes.DeploymentPromote("helper"), new { checkpoint = candidate });
        await client.PostAsync(Routes.DeploymentRollback("helper"), new { });
        var split = await client.PostAsync(Routes.DeploymentTraffic("helper"), new { candidate_version = 2, percent = 30.0 });
        Assert.Equal(1, (int)split["current_version"]!);
        Assert.Equal(2, (int)split["candidate_version"]!);

        const int users = 120;
        var arms = new Dictionary<string, string>();
        for (int u = 0; u < users; u += 12)
        {
            var batch = await Task.WhenAll(Enumerable.Range(u, 12).Select(i => AskAsync(client, "helper@latest", $"user-{i}")));
            for (int i = 0; i < batch.Length; i++)
            {
                var (tokens, logged) = batch[i];
                string arm = (string)logged["arm"]!;
                // The arm the log names is the adapter that answered.
                Assert.Equal(arm == "candidate" ? (candidateTokens, "helper@v2") : (stableTokens, "helper@v1"), (tokens, (string?)logged["deployment"]));
                arms[$"user-{u + i}"] = arm;
            }
        }
        double share = arms.Values.Count(a => a == "candidate") / (double)users;
        // Binomial(120, 0.3): sd 0.042, so ±0.13 is three standard deviations.
        Assert.InRange(share, 0.17, 0.43);
        foreach (var user in arms.Keys.Take(20))
            Assert.Equal(arms[user], (string)(await AskAsync(client, "helper@latest", user)).Logged["arm"]!);

        // name@vN is never split; clearing the split sends everyone to the current version again.
        Assert.Null((await AskAsync(client, "helper@v1", "user-0")).Logged["arm"]);
        await client.PostAsync(Routes.DeploymentTraffic("helper"), new { candidate_version = (int?)null });
        Assert.All(await Task.WhenAll(arms.Keys.Take(10).Select(u => AskAsync(client, "helper@latest", u))), r => Assert.Equal(stableTokens, r.Tokens));

        // Bad splits are refused by field and change nothing.
        Assert.Equal(400, (await client.PostFailingAsync(Routes.DeploymentTraffic("helper"), """{"candidate_version": 2, "percent": 101}""")).Status);
        Assert.Equal(400, (await client.PostFailingAsync(Routes.DeploymentTraffic("helper"), """{"candidate_version": 7, "percent": 5}""")).Status);
        Assert.Null(JsonNode.Parse(await client.Http.GetStringAsync(Routes.Deployment("helper")))!["candidate_version"]);
        using var stranger = await OpenAiTestClient.CreateAsync(server, "mallory");
        Assert.Equal(404, (await stranger.PostFailingAsync(Routes.DeploymentTraffic("helper"), """{"candidate_version": 2, "percent": 50}""")).Status);
    }

    [Fact]
    public async Task RollbackAfterPromoteGivesBackExactlyTheGreedyAnswersFromBefore()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "dave");
        var first = await client.TrainedAdapterAsync(seed: 3);
        var second = await client.TrainedAdapterAsync(seed: 4);
        await client.PostAsync(Routes.Deployments, new { name = "bot", checkpoint = first });
        var before = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => AskAsync(client, "bot@latest", $"u{i}")));
        await client.PostAsync(Routes.DeploymentPromote("bot"), new { checkpoint = second });
        var promoted = await AskAsync(client, "bot@latest", "u0");
        Assert.NotEqual(before[0].Tokens, promoted.Tokens);
        await client.PostAsync(Routes.DeploymentRollback("bot"), new { });
        var after = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => AskAsync(client, "bot@latest", $"u{i}")));
        Assert.Equal(before.Select(b => b.Tokens), after.Select(a => a.Tokens));
        Assert.All(after, a => Assert.Equal("bot@v1", (string?)a.Logged["deployment"]));
    }
}
