using System.Globalization;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;
using static Microsoft.Playwright.Assertions;

namespace Whetstone.Console.Tests;

/// <summary>The loops page after real iterations (a tiny model, a trigger of 4 feedback events): the
/// deployment's reward-model accuracy as the API has it, and per iteration the candidate run and
/// checkpoint, the gate's and the canary's numbers and the decision — the first iteration's canary
/// rolled back at its deadline, the second (its canary turned off) promoted at the gate.</summary>
public class LoopIterationsConsoleTests
{
    const string Deployment = "helper";

    /// <summary>Serves 4 prompts through helper@latest (each its own user) with a thumbs up or down on each.</summary>
    static async Task ServeWithFeedbackAsync(HttpClient http, int offset)
    {
        for (int i = offset; i < offset + 4; i++)
        {
            var answer = await ConsoleServer.PostJsonAsync(http, Routes.OpenAiCompletions, new
            {
                model = $"{Deployment}@latest", prompt = new[] { 11 + i % 7, 12, 13 + i % 5, 14 }, max_tokens = 4, temperature = 1.0, seed = i, user = $"u{i}",
            });
            await ConsoleServer.PostJsonAsync(http, Routes.Feedback, new { completion_id = (string)answer["id"]!, type = i % 2 == 0 ? "thumbs_up" : "thumbs_down" });
        }
    }

    static async Task<LoopLineage> FinishedAsync(ServiceClient sdk, string id, int iterations)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromMinutes(3); await Task.Delay(100))
        {
            var lineage = await sdk.Loops.LineageAsync(id);
            if (lineage.Iterations.Count >= iterations && lineage.Iterations[iterations - 1].Outcome is not null) return lineage;
        }
        Assert.Fail($"loop {id} did not finish iteration {iterations} in 3 minutes");
        return null!;
    }

    [Fact]
    public async Task TheLoopsPageShowsRewardModelAccuracyCandidatesAndTheGateAndCanaryDecisions()
    {
        await using var browser = await ConsoleBrowser.StartAsync();
        await using var server = await ConsoleServer.StartAsync(loopTick: TimeSpan.FromMilliseconds(100));
        string key = await server.KeyAsync("lena");
        using var sdk = server.Sdk(key);
        using var http = server.Raw(key);
        var run = await sdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 2, seed: 1);
        string checkpoint = (await (await run.SaveWeightsForSamplerAsync("v1")).ResultAsync()).Path;
        await ConsoleServer.PostJsonAsync(http, Routes.Deployments, new { name = Deployment, checkpoint });
        await sdk.RewardModels.CreateAsync(Deployment, new RewardModelSettings { BatchEvents = 4, AutoUpdate = false });
        var loop = await sdk.Loops.CreateAsync(new CreateLoopRequest(Deployment)
        {
            Trigger = new LoopTrigger { EveryFeedback = 4 },
            // Trusted from the start, so each iteration trains (one with nothing to train on is rejected before its gate).
            Rl = new LoopRlSettings { Steps = 1, PromptsPerStep = 1, GroupSize = 2, MaxTokens = 4, LearningRate = 0.05, KlCoef = 0, MinRmAccuracy = 0, MinRmPredictions = 0 },
            Gate = new LoopGateSettings
            {
                // No held-out prompts: the suite every answer passes is the evidence, so the verdict does not hang on what
                // the reward model makes of a greedy answer the step happened to change.
                HeldOutPrompts = 0, Tolerance = 1000, MaxTokens = 4, MinChangedAnswers = 0,
                RegressionSuite = [new RegressionCheck("hi") { ExpectNotContains = "\u0001never\u0001" }],
            },
            // No traffic reaches the canary here: it rolls back at its deadline (0.6 s) as undecided.
            Canary = new LoopCanarySettings { Percent = 50, MinEvents = 1, MaxMinutes = 0.01 },
        });
        await ServeWithFeedbackAsync(http, 0);
        await FinishedAsync(sdk, loop.Id, 1);
        await sdk.Loops.UpdateAsync(loop.Id, new UpdateLoopRequest { Canary = new LoopCanarySettings { Percent = 0 } });
        await ServeWithFeedbackAsync(http, 4);
        var lineage = await FinishedAsync(sdk, loop.Id, 2);
        var rm = await sdk.RewardModels.GetAsync(Deployment);
        Assert.Equal(["rolled_back", "promoted"], lineage.Iterations.Select(i => i.Outcome));
        Assert.Equal(2, rm.Prequential.Count);   // one update per iteration, each predicted before it trained
        Assert.True(rm.Prequential.All(p => p.Predicted == 4), string.Join(", ", rm.Prequential.Select(p => p.Predicted)));

        var page = browser.Page;
        await browser.SignInAsync(server.BaseAddress, key);
        await page.ClickAsync("#nav a:text('Loops')");
        var section = page.Locator($"section.loop[data-id='{loop.Id}']");
        await Expect(section.Locator(".loop-iteration")).ToHaveTextAsync("2");
        await Expect(section.Locator(".rm-version")).ToHaveTextAsync(rm.Version.ToString(CultureInfo.InvariantCulture));
        double shownAccuracy = double.Parse(await section.Locator(".rm-accuracy").TextContentAsync() ?? "", CultureInfo.InvariantCulture);
        Assert.Equal(rm.Prequential[^1].CumulativeAccuracy, shownAccuracy, 0.0051);
        await Expect(section.Locator("svg.chart")).ToHaveAttributeAsync("data-points", "2");

        var rows = section.Locator("table.lineage tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        Assert.Equal(["rolled_back", "promoted"], await rows.Locator(".outcome").AllTextContentsAsync());
        for (int i = 0; i < 2; i++)
        {
            var it = lineage.Iterations[i];
            var row = rows.Nth(i);
            await Expect(row).ToContainTextAsync(it.CandidateRun!);
            await Expect(row).ToContainTextAsync(it.PolicyCheckpoint!);
            await Expect(row).ToContainTextAsync(it.Reason!);
            await Expect(row.Locator(".gate")).ToContainTextAsync("suite 1 vs 1");
            if (it.RmVersion is not null) await Expect(row.Locator(".rm-cell")).ToContainTextAsync(it.RmVersion);
        }
        // The canary's numbers: no events on either arm before the deadline, and (the default
        // within-user comparison) no user with feedback on both arms.
        await Expect(rows.Nth(0).Locator(".canary")).ToHaveTextAsync("candidate n/a over 0 vs stable n/a over 0; within 0 users n/a");
        await Expect(rows.Nth(1).Locator(".canary")).ToHaveTextAsync("—");
        Assert.Contains("canary: deadline", lineage.Iterations[0].Reason);
        Assert.Contains("no canary", lineage.Iterations[1].Reason);
        await browser.ScreenshotAsync("loops");
        browser.AssertNoPageErrors();
    }
}
