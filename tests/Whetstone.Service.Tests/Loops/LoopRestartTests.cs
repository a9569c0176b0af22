using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>A server stopped in the middle of an iteration: the next server redoes that iteration on
/// the same feedback window, so every event is consumed exactly once.</summary>
public class LoopRestartTests
{
    [Fact]
    public async Task ARestartMidIterationNeitherLosesNorDoubleCountsFeedback()
    {
        string data = TestServers.NewDataDirectory();
        string id, key, firstRun;
        List<string> firstWindow;
        await using (var server = await StartAsync(data))
        {
            using var client = await OpenAiTestClient.CreateAsync(server, "rita");
            key = client.Key;
            await DeployAsync(client, "helper", seed: 2);
            var loop = await client.PostAsync(Routes.Loops, new
            {
                deployment = "helper",
                trigger = new { every_feedback = 5 },
                // Groups of 4 answers of 12 tokens: at about 1 "e" in 300 tokens, some of the 60 groups has a reward spread
                // on any CPU (groups of 2 answers of 4 tokens left all 60 without one about one time in five).
                rl = new { steps = 30, prompts_per_step = 2, group_size = 4, learning_rate = 1e-3, max_tokens = 12, verifiable = new { must_contain = "e" } },
                // Judged on the suite every answer passes, not on held-out prompts, so the verdict does not hang on what the
                // reward model makes of a greedy answer the step happened to change.
                gate = new { held_out_prompts = 0, max_tokens = 4, regression_suite = LoopHarness.AlwaysPasses, min_changed_answers = 0 },
                canary = new { percent = 0.0 },
            });
            id = (string)loop["id"]!;
            firstWindow = await ServeWithFeedbackAsync(client, "helper", 5);
            // Stop while it trains: the candidate run exists, its 30 steps are not done.
            var training = await WaitForAsync(client, Routes.Loop(id), l => (string?)l["state"] == "training" && l["current"]?["candidate_run"] is not null);
            firstRun = (string)training["current"]!["candidate_run"]!;
            Assert.Equal(firstWindow, training["current"]!["feedback_ids"]!.AsArray().Select(f => (string)f!));
        }

        await using (var server = await StartAsync(data))
        {
            using var client = new OpenAiTestClient(server, key);
            var lineage = await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 1), seconds: 300);
            var iteration = LastIteration(lineage);
            Assert.Single(lineage["iterations"]!.AsArray());
            Assert.Equal("promoted", (string?)iteration["outcome"]);
            Assert.Equal(firstWindow, FeedbackIds(iteration));
            Assert.NotEqual(firstRun, (string?)iteration["candidate_run"]);   // training was redone, not resumed half-way
            var info = await GetAsync(client, Routes.Loop(id));
            Assert.Equal(5, (long)info["feedback_consumed"]!);
            Assert.Equal((string?)firstWindow[^1], (string?)info["feedback_cursor"]);
            Assert.Equal(2, (int)(await GetAsync(client, Routes.Deployment("helper")))["current_version"]!);

            // The next window holds exactly the events after the first (short training this time).
            var patch = await client.Http.PatchAsync(Routes.Loop(id), new StringContent("""{"rl": {"steps": 1, "prompts_per_step": 2, "group_size": 2, "max_tokens": 4}}""",
                System.Text.Encoding.UTF8, "application/json"));
            Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
            var second = await ServeWithFeedbackAsync(client, "helper", 5, offset: 5);
            lineage = await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 2), seconds: 300);
            Assert.Equal(second, FeedbackIds(LastIteration(lineage)));
            Assert.Equal(10, (long)(await GetAsync(client, Routes.Loop(id)))["feedback_consumed"]!);
        }
    }
}
