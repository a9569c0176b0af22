using System.IO.Compression;
using Whetstone.Client;
using Whetstone.Protocol;
using static Microsoft.Playwright.Assertions;

namespace Whetstone.Console.Tests;

/// <summary>The checkpoints page changes what the API stores: publish, a time to live and its
/// removal; and downloads the adapter as the PEFT zip the API serves.</summary>
public class CheckpointsConsoleTests
{
    [Fact]
    public async Task PublishTtlAndDownloadFromThePageReachTheStore()
    {
        await using var browser = await ConsoleBrowser.StartAsync();
        await using var server = await ConsoleServer.StartAsync();
        string key = await server.KeyAsync("erin");
        using var sdk = server.Sdk(key);
        var rest = sdk.CreateRestClient();
        var run = await sdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 4, seed: 5);
        await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([11, 12, 13, 14, 15])], "cross_entropy")).ResultAsync();
        await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.01 })).ResultAsync();
        string state = (await (await run.SaveStateAsync("w1")).ResultAsync()).Path;
        string sampler = (await (await run.SaveWeightsForSamplerAsync("s1")).ResultAsync()).Path;

        var page = browser.Page;
        await browser.SignInAsync(server.BaseAddress, key);
        await page.ClickAsync("#nav a:text('Checkpoints')");
        await Expect(page.Locator("#checkpoints tbody tr")).ToHaveCountAsync(2);
        var row = page.Locator("#checkpoints tbody tr", new() { HasText = sampler });

        await row.Locator("button:text('Publish')").ClickAsync();
        await Expect(row.Locator(".badge")).ToHaveTextAsync("published");
        Assert.True((await rest.GetCheckpointAsync(sampler)).Published);
        Assert.False((await rest.GetCheckpointAsync(state)).Published);

        await row.Locator("input[type=number]").FillAsync("2");
        var before = DateTimeOffset.UtcNow;
        await row.Locator("button:text('Set TTL')").ClickAsync();
        await Expect(row.Locator("button:text('Keep forever')")).ToBeVisibleAsync();
        var expires = (await rest.GetCheckpointAsync(sampler)).ExpiresAt!.Value;
        Assert.InRange(expires, before.AddHours(2).AddSeconds(-5), DateTimeOffset.UtcNow.AddHours(2).AddSeconds(5));
        await browser.ScreenshotAsync("checkpoints");

        await row.Locator("button:text('Keep forever')").ClickAsync();
        await Expect(row.Locator("button:text('Keep forever')")).ToHaveCountAsync(0);
        Assert.Null((await rest.GetCheckpointAsync(sampler)).ExpiresAt);

        var download = await page.RunAndWaitForDownloadAsync(() => row.Locator("button:text('PEFT')").ClickAsync());
        var zip = Path.Combine(Path.GetTempPath(), $"console-download-{Guid.NewGuid():N}.zip");
        await download.SaveAsAsync(zip);
        using (var archive = ZipFile.OpenRead(zip))
            Assert.Contains(archive.Entries, e => e.Name == "adapter_config.json");
        File.Delete(zip);

        await page.ClickAsync("#nav a:text('Usage')");
        long trained = (await rest.GetUsageAsync()).TrainedTokens;
        Assert.True(trained > 0);
        await Expect(page.Locator("[data-field=trained_tokens]")).ToHaveTextAsync(trained.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        await browser.ScreenshotAsync("usage");
        browser.AssertNoPageErrors();
    }
}
