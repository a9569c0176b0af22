using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Loops;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Service.Tests.OpenAi;

namespace Whetstone.Service.Tests.Loops;

/// <summary>What the loop tests share: a server whose loop runner ticks fast, a deployment with
/// served answers, feedback on them, and waiting for a loop to reach a state.</summary>
internal static class LoopHarness
{
    /// <summary>A regression suite every answer passes: evidence for the gate even where a test serves
    /// no held-out prompt.</summary>
    public static readonly object[] AlwaysPasses = [new { prompt = "hi", expect_not_contains = "\u0001never\u0001" }];

    public static async Task<TestHost> StartAsync(string? dataDirectory = null) =>
        new(await WhetstoneServer.StartAsync(TestServers.Options(dataDirectory ?? TestServers.NewDataDirectory()) with
        {
            LoopTickInterval = TimeSpan.FromMilliseconds(100),
        }), owned: true);

    /// <summary>Deployment <paramref name="name"/> at v1 = a freshly trained adapter.</summary>
    public static async Task<string> DeployAsync(OpenAiTestClient client, string name, int seed)
    {
        var adapter = await client.TrainedAdapterAsync(seed);
        await client.PostAsync(Routes.Deployments, new { name, checkpoint = adapter });
        return adapter;
    }

    /// <summary>The prompt ServeWithFeedbackAsync serves i-th, chosen knowingly: one the loop holds
    /// out (<see cref="LoopIterationJob.IsHeldOut"/>, the gate's share) when i % 4 == 3, one it trains
    /// on otherwise, so any 4 consecutive serves hold both and no test depends on which side of the
    /// held-out hash its prompts happen to fall. Distinct for distinct i: the held-out ones are the
    /// held-out candidates in order, the training ones likewise.</summary>
    public static int[] Prompt(int i)
    {
        bool heldOut = i % 4 == 3;
        int rank = heldOut ? i / 4 : i - i / 4;
        for (int j = 0, seen = 0; j < 4096; j++)
        {
            int[] prompt = [11 + j % 7, 12, 13 + j % 5, 14 + j / 35];
            if (LoopIterationJob.IsHeldOut(prompt) == heldOut && seen++ == rank) return prompt;
        }
        throw new ArgumentOutOfRangeException(nameof(i), i, "the candidate prompts ran out");
    }

    /// <summary>Serves <paramref name="count"/> prompts (<see cref="Prompt"/>) through name@latest (each
    /// its own user) and gives each answer a thumbs up or down; returns the feedback ids in order.</summary>
    public static async Task<List<string>> ServeWithFeedbackAsync(OpenAiTestClient client, string name, int count, int offset = 0)
    {
        var ids = new List<string>();
        var prompts = Enumerable.Range(offset, count).Select(Prompt).ToArray();
        if (count >= 4)
        {
            Assert.Contains(prompts, p => LoopIterationJob.IsHeldOut(p));
            Assert.Contains(prompts, p => !LoopIterationJob.IsHeldOut(p));
        }
        for (int i = offset; i < offset + count; i++)
        {
            var response = await client.PostAsync(Routes.OpenAiCompletions, new
            {
                model = $"{name}@latest", prompt = prompts[i - offset], max_tokens = 6, temperature = 1.0, seed = i, user = $"u{i}",
            });
            var feedback = await client.PostAsync(Routes.Feedback, new { completion_id = (string)response["id"]!, type = i % 2 == 0 ? "thumbs_up" : "thumbs_down" });
            ids.Add((string)feedback["id"]!);
        }
        return ids;
    }

    public static async Task<JsonObject> GetAsync(OpenAiTestClient client, string path) =>
        JsonNode.Parse(await client.Http.GetStringAsync(path))!.AsObject();

    /// <summary>Polls GET path until <paramref name="done"/> holds (fails after the timeout, showing the last body).</summary>
    public static async Task<JsonObject> WaitForAsync(OpenAiTestClient client, string path, Func<JsonObject, bool> done, int seconds = 120)
    {
        JsonObject last = new();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < seconds;)
        {
            last = await GetAsync(client, path);
            if (done(last)) return last;
            await Task.Delay(50);
        }
        // A loop that went idle without reaching the state waited for says why in its lineage.
        string lineage = path.StartsWith(Routes.Loops + "/", StringComparison.Ordinal) && !path.EndsWith("/lineage", StringComparison.Ordinal)
            ? "; lineage: " + await client.Http.GetStringAsync(path + "/lineage") : "";
        Assert.Fail($"timed out waiting on {path}: {last.ToJsonString()}{lineage}");
        return last;
    }

    public static JsonObject LastIteration(JsonObject lineage) => lineage["iterations"]!.AsArray()[^1]!.AsObject();

    public static bool Finished(JsonObject lineage, int iteration) =>
        lineage["iterations"]!.AsArray().Count >= iteration && lineage["iterations"]![iteration - 1]!["outcome"] is not null;

    public static string[] FeedbackIds(JsonObject iteration) => iteration["feedback_ids"]!.AsArray().Select(f => (string)f!).ToArray();
}
