using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Loops;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>The anchor: SFT on the deployed version's own greedy answers (to served prompts no
/// correction was given on) alongside the corrections keeps the candidate's NLL of those answers
/// within a bound of the deployed policy's, where the corrections alone pull it far away — and the
/// corrections are still learned.</summary>
public class LoopAnchorTests
{
    /// <summary>Per-token NLL rise of the deployed answers, step 0 (the deployed policy) → last step, that the anchor stays within.</summary>
    const double Bound = 0.1;

    [Fact]
    public async Task TheAnchorKeepsTheDeployedAnswersLogprobsWithinABoundWhileTheCorrectionsAreLearned()
    {
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "anka");
        var unanchored = await TrainOneIterationAsync(client, "loose", anchorWeight: 1e-6);
        var anchored = await TrainOneIterationAsync(client, "held", anchorWeight: 1.0);

        double Rise(JsonObject m) => (double)m["step3_anchor_nll_per_token"]! - (double)m["step0_anchor_nll_per_token"]!;
        double Fall(JsonObject m) => (double)m["step0_sft_loss_per_token"]! - (double)m["step3_sft_loss_per_token"]!;
        // Measured (3 anchor prompts, the same on every run): without the anchor +0.240 nats per token over 3 updates, with it −0.757;
        // the corrections' loss fell 1.634 without and 1.612 with it.
        Assert.Equal(3.0, (double)anchored["anchor_answers"]!);
        Assert.True(Rise(unanchored) > Bound, $"without the anchor the deployed answers' NLL rose by {Rise(unanchored):F3} (the test needs > {Bound})");
        Assert.True(Rise(anchored) < Bound, $"with the anchor the deployed answers' NLL rose by {Rise(anchored):F3} (bound {Bound})");
        Assert.True(Fall(anchored) > 0.5 * Fall(unanchored), $"corrections' loss fell {Fall(anchored):F3} with the anchor ({anchored["anchor_answers"]} answers, rise {Rise(anchored):F3}) vs {Fall(unanchored):F3} without");
    }

    /// <summary>Deployment <paramref name="name"/> (the same adapter each time) serves 3 plain prompts 6 times each and 4 more
    /// prompts that get corrections; one iteration trains 4 steps of corrections' SFT plus the anchor.</summary>
    static async Task<JsonObject> TrainOneIterationAsync(OpenAiTestClient client, string name, double anchorWeight)
    {
        await DeployAsync(client, name, seed: 3);
        await client.PostAsync(Routes.RewardModel(name), new { settings = new { batch_events = 8, auto_update = false } });
        var loop = await client.PostAsync(Routes.Loops, new
        {
            deployment = name,
            trigger = new { every_feedback = 4 },
            rl = new { steps = 4, prompts_per_step = 1, group_size = 2, learning_rate = 0.05, max_tokens = 6, kl_coef = 0.0, min_rm_accuracy = 1.0,
                correction_sft_weight = 1.0, anchor_weight = anchorWeight, anchor_prompts = 12 },
            gate = new { held_out_prompts = 0, regression_suite = AlwaysPasses, min_changed_answers = 0 },
            canary = new { percent = 0.0 },
        });
        // Three plain prompts, each served six times, chosen outside the held-out share (a stable hash of the prompt), so the
        // anchor set is exactly these three on every run and machine. When the held-out share was drawn by random completion
        // ids, eight prompts served once left 3 to 8 in the set and the result changed with it: with 7 anchored answers the
        // corrections' loss did not fall at all (−0.047) one time in three.
        var plain = Enumerable.Range(0, 8).Select(j => new[] { 21 + j, 22, 23 + j }).Where(p => !LoopIterationJob.IsHeldOut(p)).Take(3).ToArray();
        for (int k = 0; k < 18; k++)
            await client.PostAsync(Routes.OpenAiCompletions, new
            {
                model = $"{name}@latest", prompt = plain[k % 3], max_tokens = 6, seed = k, user = $"u{k % 3}",
            });
        for (int i = 8; i < 12; i++)
        {
            var response = await client.PostAsync(Routes.OpenAiCompletions, new
            {
                model = $"{name}@latest", prompt = new[] { 21 + i, 22, 23 + i }, max_tokens = 6, seed = i, user = $"u{i}",
            });
            await client.PostAsync(Routes.Feedback, new { completion_id = (string)response["id"]!, type = "correction", correction = "abc abc abc" });
        }
        var iteration = LastIteration(await WaitForAsync(client, Routes.LoopLineage((string)loop["id"]!), l => Finished(l, 1)));
        return iteration["metrics"]!.AsObject();
    }
}
