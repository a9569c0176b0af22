using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>The users' corrections reach the policy: every RL step also trains on them as SFT, and
/// the candidate's loss on them falls step by step. A loop without the SFT term (or with its sign
/// wrong) leaves that loss flat or rising.</summary>
public class LoopCorrectionSftTests
{
    [Fact]
    public async Task EveryStepLowersTheCandidatesLossOnTheUsersCorrections()
    {
        var iteration = await FirstIterationAfterFourCorrectionsAsync(new
        {
            steps = 3, prompts_per_step = 1, group_size = 2, learning_rate = 0.02, max_tokens = 4, kl_coef = 0.0, min_rm_accuracy = 1.0,
            correction_sft_weight = 1.0, // lr 0.02, not 0.05: with the end-of-turn token now in every correction, 0.05 overshot at step 3 (5.72, 5.36, 6.07)
        });
        var metrics = iteration["metrics"]!.AsObject();
        Assert.Equal(4.0, (double)metrics["sft_corrections"]!);
        Assert.Equal(0.0, (double)metrics["train_rm_trusted"]!);   // untried reward model: below the bar, its score unused
        double[] loss = [.. Enumerable.Range(0, 3).Select(s => (double)metrics[$"step{s}_sft_loss_per_token"]!)];
        TestContext.Current.TestOutputHelper?.WriteLine($"SFT loss per token by step: {string.Join(", ", loss)}");
        Assert.True(loss[1] < loss[0] && loss[2] < loss[1], $"SFT loss per token by step: {string.Join(", ", loss)}");
        Assert.Equal("promoted", (string?)iteration["outcome"]);
    }

    [Fact]
    public async Task FewerCorrectionsThanMinCorrectionsAreNotTrainedAndNothingIsSampledWithoutAReward()
    {
        var iteration = await FirstIterationAfterFourCorrectionsAsync(new
        {
            steps = 2, prompts_per_step = 1, group_size = 2, learning_rate = 0.05, max_tokens = 4, kl_coef = 0.0, min_rm_accuracy = 1.0,
            correction_sft_weight = 1.0, min_corrections = 5,
        });
        var metrics = iteration["metrics"]!.AsObject();
        Assert.Equal(4.0, (double)metrics["corrections_available"]!);
        Assert.Equal(0.0, (double)metrics["sft_corrections"]!);   // 4 corrections < 5
        Assert.Equal(0.0, (double)metrics["rl_sampled"]!);        // no verifiable reward, reward model below the bar: no group could differ
        Assert.Equal(0.0, (double)metrics["trained"]!);
        Assert.False(metrics.ContainsKey("step0_datums"));        // no step was run
        // Not gated: the gate would only have found the deployed policy (minutes of CPU on a 2-core machine).
        Assert.Equal("rejected", (string?)iteration["outcome"]);
        Assert.StartsWith("nothing to train on: 4 corrections (at least 5 needed), no reward that can differ", (string)iteration["reason"]!);
        Assert.False(metrics.ContainsKey("gate_changed_answers"));
        Assert.Null(iteration["deployment_version"]);
    }

    /// <summary>A loop on "helper" with these RL settings, triggered by 4 corrections of served
    /// completions; its first finished iteration. No reward signal at all (no verifiable reward, the
    /// reward model below the bar): only the corrections can move the policy.</summary>
    static async Task<JsonObject> FirstIterationAfterFourCorrectionsAsync(object rl)
    {
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "cora");
        await DeployAsync(client, "helper", seed: 3);
        await client.PostAsync(Routes.RewardModel("helper"), new { settings = new { batch_events = 8, auto_update = false } });
        var loop = await client.PostAsync(Routes.Loops, new
        {
            deployment = "helper",
            trigger = new { every_feedback = 4 },
            rl,
            gate = new { held_out_prompts = 0, regression_suite = AlwaysPasses, min_changed_answers = 0 },
            canary = new { percent = 0.0 },
        });
        string id = (string)loop["id"]!;
        for (int i = 0; i < 4; i++)
        {
            var response = await client.PostAsync(Routes.OpenAiCompletions, new { model = "helper@latest", prompt = new[] { 11 + i, 12, 13 }, max_tokens = 4, seed = i, user = $"u{i}" });
            await client.PostAsync(Routes.Feedback, new { completion_id = (string)response["id"]!, type = "correction", correction = "abc abc abc" });
        }
        return LastIteration(await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 1)));
    }
}
