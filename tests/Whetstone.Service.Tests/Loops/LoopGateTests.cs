using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>The eval gate: a candidate that breaks an owner's regression check is never promoted,
/// and the lineage says why.</summary>
public class LoopGateTests
{
    [Fact]
    public async Task ACandidateThatFailsARegressionCheckTheDeployedVersionPassesIsNeverPromoted()
    {
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "olga");
        await DeployAsync(client, "helper", seed: 1);
        // The owner's check: the deployed version's own greedy answer to a fixed question, as text
        // (the served log's text: a random tiny model answers with whitespace its chat message trims).
        const string question = "hello there";
        var chat = await client.PostAsync(Routes.OpenAiChatCompletions, new
        {
            model = "helper@latest", messages = new[] { new { role = "user", content = question } }, max_tokens = 8, temperature = 0.0,
        });
        string expected = (string)(await client.LoggedAsync((string)chat["id"]!))["choices"]![0]!["text"]!;
        Assert.NotEmpty(expected);

        var loop = await client.PostAsync(Routes.Loops, new
        {
            deployment = "helper",
            trigger = new { every_feedback = 6 },
            // A large step on a reward with spread (64 near-uniform tokens contain an "e" about one time in five): the candidate's answers change.
            rl = new { steps = 2, prompts_per_step = 4, group_size = 8, learning_rate = 0.5, max_tokens = 64, kl_coef = 0.0, verifiable = new { must_contain = "e" } },
            gate = new { held_out_prompts = 4, tolerance = 1000.0, max_tokens = 8, regression_suite = new[] { new { prompt = question, expect_contains = expected } } },
            canary = new { percent = 0.0 },
        });
        string id = (string)loop["id"]!;
        var feedback = await ServeWithFeedbackAsync(client, "helper", 6);

        var lineage = await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 1));
        var iteration = LastIteration(lineage);
        var metrics = iteration["metrics"]!.AsObject();
        Assert.True((double)metrics["step0_datums"]! > 0, "the first step had no group with reward spread: nothing was trained");
        Assert.Equal(1.0, (double)metrics["suite_deployed_passes"]!);
        Assert.Equal(0.0, (double)metrics["suite_candidate_passes"]!);
        Assert.Equal("rejected", (string?)iteration["outcome"]);
        Assert.Contains("regression suite", (string)iteration["reason"]!);
        // The reason names the broken check and what the candidate answered, so an owner can see why.
        Assert.Contains($"'{question}' → '", (string)iteration["reason"]!);
        Assert.Null(iteration["deployment_version"]);
        Assert.NotNull(iteration["policy_checkpoint"]);
        Assert.Equal(feedback, FeedbackIds(iteration));

        var deployment = await GetAsync(client, Routes.Deployment("helper"));
        Assert.Equal(1, (int)deployment["current_version"]!);
        Assert.Single(deployment["versions"]!.AsArray());
        Assert.Null(deployment["candidate_version"]);
        var info = await GetAsync(client, Routes.Loop(id));
        Assert.Equal("idle", (string?)info["state"]);
        Assert.Equal(6, (long)info["feedback_consumed"]!);
    }

    [Fact]
    public async Task ACandidateThatAnswersExactlyAsTheDeployedVersionIsANoOpAndNeverReachesACanary()
    {
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "nina");
        await DeployAsync(client, "helper", seed: 1);
        var loop = await client.PostAsync(Routes.Loops, new
        {
            deployment = "helper",
            trigger = new { every_feedback = 4 },
            // A step far too small to change any greedy answer (the old failure: such a candidate passed a tolerance gate and was promoted).
            // It must still train: 4 groups of 8 answers of 64 near-uniform tokens (each holds an "e" about one time in five) all
            // without a reward spread is a chance under 1e-3; 2 groups of 4 answers of 16 tokens had none on another CPU, and the
            // iteration stopped as "nothing to train on" before its gate.
            rl = new { steps = 1, prompts_per_step = 4, group_size = 8, learning_rate = 1e-12, max_tokens = 64, kl_coef = 0.0, verifiable = new { must_contain = "e" } },
            gate = new { held_out_prompts = 4, tolerance = 1000.0, max_tokens = 8, regression_suite = AlwaysPasses },
            canary = new { percent = 50.0 },
        });
        string id = (string)loop["id"]!;
        await ServeWithFeedbackAsync(client, "helper", 4);

        var iteration = LastIteration(await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 1)));
        Assert.True((double)iteration["metrics"]!["step0_datums"]! > 0, $"the step had no group with reward spread: {iteration["reason"]}");
        Assert.Equal("rejected", (string?)iteration["outcome"]);
        Assert.Contains("a no-op candidate", (string)iteration["reason"]!);
        Assert.Equal(0.0, (double)iteration["metrics"]!["gate_changed_answers"]!);
        // The harness served 3 training prompts and 1 held-out one: training drew on the 3, the gate judged on the 1.
        Assert.Equal((3.0, 1.0), ((double)iteration["metrics"]!["train_prompts"]!, (double)iteration["metrics"]!["gate_prompts"]!));
        Assert.Null(iteration["deployment_version"]);
        var deployment = await GetAsync(client, Routes.Deployment("helper"));
        Assert.Equal(1, (int)deployment["current_version"]!);
        Assert.Null(deployment["candidate_version"]);
    }
}
