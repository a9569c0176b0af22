using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>Loops belong to their tenant: another tenant can neither see nor change them, a loop can
/// only name its own tenant's deployment, and another tenant's feedback never enters its window.</summary>
public class LoopTenancyTests
{
    [Fact]
    public async Task ALoopSeesOnlyItsTenantsDeploymentAndFeedbackAndOthersCannotTouchIt()
    {
        await using var server = await StartAsync();
        using var alice = await OpenAiTestClient.CreateAsync(server, "alice");
        using var mallory = await OpenAiTestClient.CreateAsync(server, "mallory");
        await DeployAsync(alice, "helper", seed: 3);

        // Mallory cannot loop on Alice's deployment: to her it does not exist.
        var (status, body) = await mallory.PostFailingAsync(Routes.Loops, """{"deployment": "helper"}""");
        Assert.Equal(404, status);
        Assert.Contains("helper", (string)body["error"]!["message"]!);

        var loop = await alice.PostAsync(Routes.Loops, new
        {
            deployment = "helper", trigger = new { every_feedback = 4 },
            rl = new { steps = 1, prompts_per_step = 2, group_size = 2, max_tokens = 4 },
            gate = new { held_out_prompts = 2, tolerance = 1000.0, max_tokens = 4, regression_suite = LoopHarness.AlwaysPasses, min_changed_answers = 0 }, canary = new { percent = 0.0 },
        });
        string id = (string)loop["id"]!;
        Assert.Equal(404, (int)(await mallory.Http.GetAsync(Routes.Loop(id))).StatusCode);
        Assert.Equal(404, (int)(await mallory.Http.GetAsync(Routes.LoopLineage(id))).StatusCode);
        Assert.Equal(404, (int)(await mallory.Http.PatchAsync(Routes.Loop(id), Json("""{"status": "paused"}"""))).StatusCode);
        Assert.Equal(404, (int)(await mallory.Http.DeleteAsync(Routes.Loop(id))).StatusCode);
        Assert.Empty((await GetAsync(mallory, Routes.Loops))["loops"]!.AsArray());
        Assert.Equal("active", (string?)(await GetAsync(alice, Routes.Loop(id)))["status"]);

        // Mallory has a deployment of the same name with feedback of her own; and her feedback on
        // Alice's completion is refused.
        await DeployAsync(mallory, "helper", seed: 4);
        var malloryFeedback = await ServeWithFeedbackAsync(mallory, "helper", 6);
        var aliceAnswer = await alice.PostAsync(Routes.OpenAiCompletions, new { model = "helper@latest", prompt = new[] { 5, 6 }, max_tokens = 2 });
        (status, _) = await mallory.PostFailingAsync(Routes.Feedback, $$"""{"completion_id": "{{aliceAnswer["id"]}}", "type": "thumbs_down"}""");
        Assert.Equal(404, status);

        var aliceFeedback = await ServeWithFeedbackAsync(alice, "helper", 4);
        var lineage = await WaitForAsync(alice, Routes.LoopLineage(id), l => Finished(l, 1));
        Assert.Equal(aliceFeedback, FeedbackIds(LastIteration(lineage)));
        Assert.Empty(FeedbackIds(LastIteration(lineage)).Intersect(malloryFeedback));
        // Mallory's deployment is untouched by Alice's loop.
        var hers = await GetAsync(mallory, Routes.Deployment("helper"));
        Assert.Equal(1, (int)hers["current_version"]!);
        Assert.Single(hers["versions"]!.AsArray());

        // Bad settings are refused by field and create nothing.
        (status, body) = await alice.PostFailingAsync(Routes.Loops, """{"deployment": "helper", "trigger": {"every_feedback": 0}}""");
        Assert.Equal(400, status);
        Assert.Equal("trigger.every_feedback", (string?)body["error"]!["field"]);
        (status, body) = await alice.PostFailingAsync(Routes.Loops, """{"deployment": "helper", "canary": {"percent": 100}}""");
        Assert.Equal(400, status);
        Assert.Equal("canary.percent", (string?)body["error"]!["field"]);
        Assert.Single((await GetAsync(alice, Routes.Loops))["loops"]!.AsArray());
    }

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
