using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Loops;
using Whetstone.Service.Persistence;
using Whetstone.Service.Tests.OpenAi;
using static Whetstone.Service.Tests.Loops.LoopHarness;

namespace Whetstone.Service.Tests.Loops;

/// <summary>rl.correction_window_policy "adaptive": the corrections trained on are those after the
/// newest change the drift detector finds in a deployed version's own feedback; a promotion is not a
/// change; the setting is validated by field and reaches the iteration through the real job.</summary>
public class AdaptiveCorrectionWindowTests
{
    static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Events of one version: thumbs up with chance pUp (else down), every fifth a correction.</summary>
    static IEnumerable<DeploymentFeedback> Events(string version, int count, double pUp, Random random, List<DeploymentFeedback> all)
    {
        for (int i = 0; i < count; i++)
        {
            int n = all.Count;
            string kind = n % 5 == 4 ? "correction" : random.NextDouble() < pUp ? "thumbs_up" : "thumbs_down";
            var e = new DeploymentFeedback(new FeedbackRecord($"f{n:D5}", "acme", $"c{n}", kind, T0.AddSeconds(n)), version, "stable");
            all.Add(e);
            yield return e;
        }
    }

    static List<CorrectionExample> Corrections(IEnumerable<DeploymentFeedback> events) =>
        events.Where(e => e.Feedback.Kind == "correction").Select(e => new CorrectionExample(e.Feedback.Id, e.Feedback.CompletionId, [1, 2], "fixed", [3])).ToList();

    [Fact]
    public void AfterAChangeInTheDeployedVersionsFeedbackOnlyLaterCorrectionsAreKept()
    {
        var all = new List<DeploymentFeedback>();
        var random = new Random(1);
        _ = Events("helper@v1", 100, 0.5, random, all).ToList();
        _ = Events("helper@v2", 600, 0.9, random, all).ToList();
        int change = all.Count;
        _ = Events("helper@v2", 400, 0.3, random, all).ToList();
        var corrections = Corrections(all);

        var cut = AdaptiveCorrectionWindow.Find(all);
        Assert.NotNull(cut);
        Assert.Equal("helper@v2", cut.Version);
        Assert.InRange(cut.Index, change - 20, change + 200);
        var kept = AdaptiveCorrectionWindow.After(corrections, all, cut);
        Assert.NotEmpty(kept);
        var position = all.Select((e, i) => (e.Feedback.Id, i)).ToDictionary(x => x.Id, x => x.i);
        Assert.All(kept, c => Assert.True(position[c.FeedbackId] >= cut.Index));
        Assert.Equal(corrections.Count(c => position[c.FeedbackId] >= cut.Index), kept.Count);
        // The newest 64 would still hold corrections from before the change (the 80 after it are all there is after it here).
        Assert.True(kept.Count < corrections.Count);
        // A correction newer than the events searched (given after the window ended) is after the cut too.
        var newer = new CorrectionExample("f99999", "c99999", [1], "late", [2]);
        Assert.Contains(newer, AdaptiveCorrectionWindow.After([.. corrections, newer], all, cut));
    }

    [Fact]
    public void APromotionIsNotAChangeAndAnEarlierCutStaysAfterOne()
    {
        // v1 pleases 30% of the time, the promoted v2 90%: in one stream that is a change (the detector's own test shows
        // it cuts such a jump); per version it is none, and every correction stays.
        var all = new List<DeploymentFeedback>();
        var random = new Random(2);
        _ = Events("helper@v1", 500, 0.3, random, all).ToList();
        _ = Events("helper@v2", 500, 0.9, random, all).ToList();
        Assert.Null(AdaptiveCorrectionWindow.Find(all));
        var corrections = Corrections(all);
        Assert.Equal(corrections, AdaptiveCorrectionWindow.After(corrections, all, null));
        var joined = new FeedbackDriftDetector();
        foreach (var e in all) joined.Add(LoopIterationJob.Satisfaction(e.Feedback));
        Assert.True(joined.Cuts > 0, "the same events as one stream were not cut: the promotion test proves nothing");

        // v2's users then change (a cut in v2's stream); v3 is promoted and its stream has no change: v2's cut still counts.
        _ = Events("helper@v2", 400, 0.2, random, all).ToList();
        var cut = AdaptiveCorrectionWindow.Find(all);
        Assert.NotNull(cut);
        _ = Events("helper@v3", 300, 0.6, random, all).ToList();
        Assert.Equal(cut, AdaptiveCorrectionWindow.Find(all));
    }

    [Fact]
    public async Task ThePolicyIsStoredAndAnUnknownOneIsRefusedByField()
    {
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "wind");
        await DeployAsync(client, "helper", seed: 1);
        var response = await client.Http.PostAsync(Routes.Loops, new StringContent(
            """{"deployment": "helper", "rl": {"correction_window_policy": "oldest"}}""", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal((400, "rl.correction_window_policy"), ((int)response.StatusCode, (string?)body["error"]!["field"]));
        Assert.Contains("oldest", (string?)body["error"]!["message"]);
        Assert.Empty((await GetAsync(client, Routes.Loops))["loops"]!.AsArray());

        var loop = await client.PostAsync(Routes.Loops, new { deployment = "helper", trigger = new { every_feedback = 1_000_000 } });
        Assert.Equal("newest", (string?)loop["rl"]!["correction_window_policy"]);
        var patch = await client.Http.PatchAsync(Routes.Loop((string)loop["id"]!), new StringContent(
            """{"rl": {"correction_window_policy": "adaptive"}}""", Encoding.UTF8, "application/json"));
        Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
        Assert.Equal("adaptive", (string?)(await GetAsync(client, Routes.Loop((string)loop["id"]!)))["rl"]!["correction_window_policy"]);
        var bad = await client.Http.PatchAsync(Routes.Loop((string)loop["id"]!), new StringContent(
            """{"rl": {"correction_window_policy": "Adaptive"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Equal("adaptive", (string?)(await GetAsync(client, Routes.Loop((string)loop["id"]!)))["rl"]!["correction_window_policy"]);
    }

    [Theory]
    [InlineData("adaptive", 2, 2)]
    [InlineData("newest", 4, 0)]
    public async Task TheIterationTrainsOnlyOnCorrectionsAfterTheCut(string policy, int available, int beforeCut)
    {
        // 2 corrections, 24 thumbs up, 24 thumbs down, 2 corrections: one window of 52 events. Adaptive: the cut falls
        // between the ups and the downs, and the 2 earlier corrections are left out; newest: all 4 are trained.
        await using var server = await StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "winl");
        await DeployAsync(client, "helper", seed: 3);
        // Corrections reach the loop through the reward model (those it trained on): one update of all 52 events.
        await client.PostAsync(Routes.RewardModel("helper"), new { settings = new { batch_events = 64, auto_update = false } });
        var loop = await client.PostAsync(Routes.Loops, new
        {
            deployment = "helper",
            trigger = new { every_feedback = 52 },
            rl = new { steps = 1, prompts_per_step = 1, group_size = 2, max_tokens = 4, min_rm_accuracy = 1.0, correction_sft_weight = 1.0, min_corrections = 3,
                correction_window_policy = policy },
            gate = new { held_out_prompts = 0, regression_suite = AlwaysPasses, min_changed_answers = 0 },
            canary = new { percent = 0.0 },
        });
        string id = (string)loop["id"]!;
        // The detector takes one value per answer: each event is on its own answer, of two users taking turns.
        string[] kinds = [.. Enumerable.Repeat("correction", 2), .. Enumerable.Repeat("thumbs_up", 24), .. Enumerable.Repeat("thumbs_down", 24), .. Enumerable.Repeat("correction", 2)];
        for (int i = 0; i < kinds.Length; i++)
        {
            var response = await client.PostAsync(Routes.OpenAiCompletions, new { model = "helper@latest", prompt = Prompt(i), max_tokens = 4, seed = i, user = i % 2 == 0 ? "alice" : "bob" });
            await client.PostAsync(Routes.Feedback, kinds[i] == "correction"
                ? new { completion_id = (string)response["id"]!, type = kinds[i], correction = $"fix {i}" }
                : (object)new { completion_id = (string)response["id"]!, type = kinds[i] });
        }
        var iteration = LastIteration(await WaitForAsync(client, Routes.LoopLineage(id), l => Finished(l, 1)));
        var metrics = iteration["metrics"]!.AsObject();
        Assert.True(metrics.ContainsKey("corrections_available"), $"{iteration["outcome"]}: {iteration["reason"]}");
        Assert.Equal(available, (double)metrics["corrections_available"]!);
        if (policy == "adaptive")
        {
            // 2 < min_corrections 3: nothing trained, no gate.
            Assert.Equal("rejected", (string?)iteration["outcome"]);
            Assert.StartsWith("nothing to train on: 2 corrections", (string)iteration["reason"]!);
            Assert.Equal(1.0, (double)metrics["drift_cut"]!);
            Assert.Equal(1.0, (double)metrics["drift_cut_version"]!);
            Assert.Equal(beforeCut, (double)metrics["corrections_before_cut"]!);
            Assert.InRange((double)metrics["drift_cut_events_after"]!, 26, 34);   // the 24 downs and 2 corrections, and at most a few ups
        }
        else
        {
            Assert.Equal(4.0, (double)metrics["sft_corrections"]!);   // all four, trained
            Assert.False(metrics.ContainsKey("drift_cut"));
        }
    }
}
