using Whetstone.Protocol;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>A loop's canary with the defaults (split by request, compared within users) gathers each
/// feedback event's arm and user from the completion log and decides on the users' own differences.</summary>
public class LoopCanaryWithinUserTests
{
    [Fact]
    public async Task TheCanaryPromotesOnTheUsersOwnDifferencesReadFromTheLog()
    {
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "wendy");
        await DeployAsync(client, "helper", seed: 5);
        await client.PostAsync(Routes.RewardModel("helper"), new { settings = new { batch_events = 4, auto_update = false } });
        // As LoopPauseTests: one trusted-RM step and a suite every answer passes, so the iteration reaches its canary.
        var loop = await client.PostAsync(Routes.Loops, new
        {
            deployment = "helper", trigger = new { every_feedback = 4 },
            rl = new { steps = 1, prompts_per_step = 2, group_size = 2, max_tokens = 4, min_rm_accuracy = 0.0, min_rm_predictions = 0 },
            gate = new { held_out_prompts = 0, max_tokens = 4, regression_suite = AlwaysPasses, min_changed_answers = 0 },
            canary = new { percent = 50.0, min_events = 4, min_users = 4, tolerance = 0.05, z = 2.0, max_minutes = 10.0 },
        });
        string id = (string)loop["id"]!;
        Assert.Equal(("request", "within_user"), ((string?)loop["canary"]!["split"], (string?)loop["canary"]!["compare"]));
        for (int p = 0; p < 8; p++)
            await client.PostAsync(Routes.OpenAiCompletions, new { model = "helper@latest", prompt = new[] { 30 + p, 31 }, max_tokens = 2, user = $"p{p}" });
        await ServeWithFeedbackAsync(client, "helper", 4);
        await WaitForAsync(client, Routes.Loop(id), l => (string?)l["state"] == "canary");

        // Six users, eight requests each: every answer from the candidate gets a thumbs up, every stable one a thumbs down
        // (each user's difference is 1). The canary may decide before the last of them: later answers carry no arm.
        var arms = new Dictionary<string, HashSet<string>>();
        for (int r = 0; r < 8; r++)
            for (int u = 0; u < 6; u++)
            {
                var response = await client.PostAsync(Routes.OpenAiCompletions,
                    new { model = "helper@latest", prompt = new[] { 40, 41 }, max_tokens = 2, seed = r, user = $"w{u}" });
                var logged = await client.LoggedAsync((string)response["id"]!);
                if ((string?)logged["arm"] is not { } arm) continue;
                (arms.TryGetValue($"w{u}", out var seen) ? seen : arms[$"w{u}"] = []).Add(arm);
                await client.PostAsync(Routes.Feedback, new { completion_id = (string)response["id"]!, type = arm == "candidate" ? "thumbs_up" : "thumbs_down" });
            }
        Assert.True(arms.Values.Count(a => a.Count == 2) >= 4, "fewer than 4 users reached both arms: " + string.Join(", ", arms.Select(a => $"{a.Key} {string.Join("/", a.Value)}")));

        var lineage = await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 1));
        var iteration = lineage["iterations"]![0]!.AsObject();   // the canary's feedback may already have started a second one
        Assert.Equal("promoted", (string?)iteration["outcome"]);
        var metrics = iteration["metrics"]!.AsObject();
        Assert.Equal(1.0, (double)metrics["canary_difference"]!, 1e-12);
        Assert.InRange((double)metrics["canary_users"]!, 4, 6);
        Assert.Contains("within-user difference 1.000", (string?)iteration["reason"]);
        // A second iteration's canary cannot have decided: no feedback has come since.
        Assert.Equal(2, (int)(await GetAsync(client, Routes.Deployment("helper")))["current_version"]!);
    }
}
