using System.Globalization;
using Whetstone.Client;
using Whetstone.Protocol;
using static Microsoft.Playwright.Assertions;

namespace Whetstone.Console.Tests;

/// <summary>A run's page follows the run live: each step trained through the SDK while the page
/// is open adds a point to its loss curve, without a reload; the client's own metrics (a reward)
/// get a curve of their own.</summary>
public class RunCurveTests
{
    [Fact]
    public async Task TheLossCurveGainsAPointPerStepWhileTheRunTrains()
    {
        await using var browser = await ConsoleBrowser.StartAsync();
        await using var server = await ConsoleServer.StartAsync();
        string key = await server.KeyAsync("carol");
        using var sdk = server.Sdk(key);
        var run = await sdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 4, seed: 3);
        var page = browser.Page;
        await browser.SignInAsync(server.BaseAddress, key);
        await page.GotoAsync(new Uri(server.BaseAddress, $"#/runs/{run.RunId}").ToString());
        await Expect(page.Locator("#charts")).ToContainTextAsync("No metrics yet");

        var loss = page.Locator("svg.chart[data-metric='loss:sum']");
        int[] tokens = [11, 12, 13, 14, 15, 16, 40, 41, 42, 43];
        for (int step = 1; step <= 4; step++)
        {
            var output = await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy(tokens)], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync();
            // The page polls: the new point shows up without a reload, plotted as one more vertex.
            await Expect(loss).ToHaveAttributeAsync("data-points", step.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(step, (await loss.Locator("polyline.line").GetAttributeAsync("points"))!.Split(' ').Length);
            await Expect(page.Locator("#run-step")).ToHaveTextAsync(step.ToString(CultureInfo.InvariantCulture));
            // The point drawn last is this step's loss, at the step it was computed on (step - 1 updates before it).
            await Expect(loss.Locator(".chart-title")).ToContainTextAsync($"at step {step - 1}");
            Assert.Equal(output.Metrics["loss:sum"], (await run.GetMetricsAsync()).Points.Where(p => p.Name == "loss:sum").Last().Value);
        }
        await Expect(page.Locator("svg.chart[data-metric='grad_norm']")).ToHaveAttributeAsync("data-points", "4");

        await run.RecordMetricsAsync(4, new Dictionary<string, double> { ["reward"] = 0.25 });
        await run.RecordMetricsAsync(5, new Dictionary<string, double> { ["reward"] = 0.5 });
        await Expect(page.Locator("svg.chart[data-metric='reward']")).ToHaveAttributeAsync("data-points", "2");
        await Expect(page.Locator("svg.chart[data-metric='reward'] .chart-title")).ToHaveTextAsync("reward — 0.5 at step 5");
        await Expect(page.Locator("#run-status")).ToHaveTextAsync("training");
        await browser.ScreenshotAsync("run");
        browser.AssertNoPageErrors();
    }
}
