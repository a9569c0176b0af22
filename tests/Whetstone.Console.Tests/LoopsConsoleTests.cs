using System.Text.Json.Nodes;
using Whetstone.Protocol;
using static Microsoft.Playwright.Assertions;

namespace Whetstone.Console.Tests;

/// <summary>The loops page shows the tenant's loop as the API has it (status, state, iteration,
/// its so-far empty lineage), and its Pause button pauses the loop on the server. Another
/// tenant's loop never appears.</summary>
public class LoopsConsoleTests
{
    static async Task<string> LoopOnNewDeploymentAsync(ConsoleServer server, string key, string deployment)
    {
        using var sdk = server.Sdk(key);
        using var http = server.Raw(key);
        var run = await sdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 2, seed: 1);
        string checkpoint = (await (await run.SaveWeightsForSamplerAsync("v1")).ResultAsync()).Path;
        await ConsoleServer.PostJsonAsync(http, Routes.Deployments, new { name = deployment });
        await ConsoleServer.PostJsonAsync(http, $"{Routes.Deployments}/{deployment}/promote", new { checkpoint });
        // A trigger far away: the loop stays idle while the page is looked at.
        var loop = await ConsoleServer.PostJsonAsync(http, Routes.Loops, new { deployment, trigger = new { every_feedback = 1000 } });
        return (string)loop["id"]!;
    }

    [Fact]
    public async Task TheLoopsPageShowsTheLoopAndPausesIt()
    {
        await using var browser = await ConsoleBrowser.StartAsync();
        await using var server = await ConsoleServer.StartAsync();
        string key = await server.KeyAsync("lena"), otherKey = await server.KeyAsync("omar");
        string id = await LoopOnNewDeploymentAsync(server, key, "helper");
        string otherId = await LoopOnNewDeploymentAsync(server, otherKey, "theirs");

        var page = browser.Page;
        await browser.SignInAsync(server.BaseAddress, key);
        await page.ClickAsync("#nav a:text('Loops')");
        var loop = page.Locator($"section.loop[data-id='{id}']");
        await Expect(loop.Locator(".loop-status")).ToHaveTextAsync("active");
        await Expect(loop.Locator(".loop-state")).ToHaveTextAsync("idle");
        await Expect(loop.Locator(".loop-iteration")).ToHaveTextAsync("0");
        await Expect(loop.Locator(".lineage-empty")).ToBeVisibleAsync();
        await Expect(page.Locator("section.loop")).ToHaveCountAsync(1);
        await Expect(page.Locator($"section.loop[data-id='{otherId}']")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("loops-idle");   // docs/console/loops.png is the page after real iterations (LoopIterationsConsoleTests)

        await loop.Locator("button.loop-toggle").ClickAsync();
        await Expect(loop.Locator(".loop-status")).ToHaveTextAsync("paused");
        using var http = server.Raw(key);
        Assert.Equal("paused", (string?)JsonNode.Parse(await http.GetStringAsync(Routes.Loop(id)))!["status"]);
        await Expect(loop.Locator("button.loop-toggle")).ToHaveTextAsync("Resume");
        browser.AssertNoPageErrors();
    }
}
