using System.Text;
using Whetstone.Protocol;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>Pausing a loop in its canary takes the candidate off the deployment at once: every
/// request is answered by the last promoted version, and on resume the same window is used again.</summary>
public class LoopPauseTests
{
    [Fact]
    public async Task PausingInTheCanaryLeavesTheDeploymentServingItsLastPromotedVersion()
    {
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "paula");
        await DeployAsync(client, "helper", seed: 5);
        await client.PostAsync(Routes.RewardModel("helper"), new { settings = new { batch_events = 4, auto_update = false } });
        var loop = await client.PostAsync(Routes.Loops, new
        {
            deployment = "helper", trigger = new { every_feedback = 4 },
            // A reward model, trusted from the start, so the step has a reward that differs between
            // answers (an iteration with nothing to train on is rejected before its gate and never reaches a canary).
            rl = new { steps = 1, prompts_per_step = 2, group_size = 2, max_tokens = 4, min_rm_accuracy = 0.0, min_rm_predictions = 0 },
            // Judged on the suite every answer passes, not on held-out prompts, so the verdict does not hang on what the
            // reward model makes of a greedy answer the step happened to change.
            gate = new { held_out_prompts = 0, max_tokens = 4, regression_suite = LoopHarness.AlwaysPasses, min_changed_answers = 0 },
            canary = new { percent = 50.0, min_events = 1000 },   // the canary never decides on its own here
        });
        string id = (string)loop["id"]!;
        // Eight more served prompts without feedback (all outside the held-out share), so each step draws from more than the window's 3.
        for (int p = 0; p < 8; p++)
            await client.PostAsync(Routes.OpenAiCompletions, new { model = "helper@latest", prompt = new[] { 30 + p, 31 }, max_tokens = 2, user = $"p{p}" });
        var window = await ServeWithFeedbackAsync(client, "helper", 4);
        await WaitForAsync(client, Routes.Loop(id), l => (string?)l["state"] == "canary");
        var split = await GetAsync(client, Routes.Deployment("helper"));
        Assert.Equal(2, (int)split["candidate_version"]!);
        Assert.Equal(1, (int)split["current_version"]!);

        var paused = await client.Http.PatchAsync(Routes.Loop(id), new StringContent("""{"status": "paused"}""", Encoding.UTF8, "application/json"));
        Assert.True(paused.IsSuccessStatusCode, await paused.Content.ReadAsStringAsync());
        var deployment = await GetAsync(client, Routes.Deployment("helper"));
        Assert.Null(deployment["candidate_version"]);
        Assert.Equal(1, (int)deployment["current_version"]!);
        for (int u = 0; u < 12; u++)
        {
            var response = await client.PostAsync(Routes.OpenAiCompletions, new { model = "helper@latest", prompt = new[] { 7, 8 }, max_tokens = 2, user = $"x{u}" });
            var logged = await client.LoggedAsync((string)response["id"]!);
            Assert.Equal("helper@v1", (string?)logged["deployment"]);
            Assert.Null(logged["arm"]);
        }
        var lineage = await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 1));
        Assert.Equal("aborted", (string?)LastIteration(lineage)["outcome"]);
        var info = await GetAsync(client, Routes.Loop(id));
        Assert.Equal(("paused", "idle", 0L), ((string?)info["status"], (string?)info["state"], (long)info["feedback_consumed"]!));

        // Resumed, the next iteration takes the same window again.
        await client.Http.PatchAsync(Routes.Loop(id), new StringContent("""{"status": "active", "canary": {"percent": 0}}""", Encoding.UTF8, "application/json"));
        lineage = await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 2));
        Assert.Equal(window, FeedbackIds(LastIteration(lineage)));
        Assert.Equal("promoted", (string?)LastIteration(lineage)["outcome"]);
    }
}
