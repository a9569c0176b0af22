using static Microsoft.Playwright.Assertions;

namespace Whetstone.Console.Tests;

/// <summary>Signing in to the console with an API key: a wrong key is refused with the API's
/// reason and nothing is kept; a right one shows that tenant's runs and no one else's.</summary>
public class SignInTests
{
    [Fact]
    public async Task AWrongKeyIsRefusedByNameAndTheRightKeyShowsOnlyItsTenantsRuns()
    {
        await using var browser = await ConsoleBrowser.StartAsync();
        await using var server = await ConsoleServer.StartAsync();
        string alice = await server.KeyAsync("alice"), bob = await server.KeyAsync("bob");
        using var aliceSdk = server.Sdk(alice);
        using var bobSdk = server.Sdk(bob);
        var aliceRun = await aliceSdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 4, seed: 1);
        var bobRun = await bobSdk.CreateLoraTrainingClientAsync(ConsoleServer.ModelName, rank: 4, seed: 2);
        var page = browser.Page;

        await browser.SignInAsync(server.BaseAddress, "whet_not_a_key");
        await Expect(page.Locator("form.sign-in .error")).ToHaveTextAsync("Sign-in failed: unknown or revoked API key");
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('whetstone.apiKey')"));
        await Expect(page.Locator("#nav a")).ToHaveCountAsync(0);

        await page.FillAsync("#api-key", alice);
        await page.ClickAsync("form.sign-in button[type=submit]");
        await Expect(page.Locator("#runs tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#runs")).ToContainTextAsync(aliceRun.RunId);
        Assert.DoesNotContain(bobRun.RunId, await page.Locator("#runs").InnerTextAsync());
        Assert.Equal(alice, await page.EvaluateAsync<string?>("sessionStorage.getItem('whetstone.apiKey')"));
        await Expect(page.Locator("#nav a")).ToHaveTextAsync(["Runs", "Checkpoints", "Deployments", "Completions", "Loops", "Memories", "Usage"]);
        await browser.ScreenshotAsync("runs");

        // Bob's run by its address is, for Alice, a run that does not exist.
        await page.GotoAsync(new Uri(server.BaseAddress, $"#/runs/{bobRun.RunId}").ToString());
        await Expect(page.Locator("main .error")).ToContainTextAsync($"training run '{bobRun.RunId}' does not exist");

        await page.ClickAsync("#sign-out");
        await Expect(page.Locator("#api-key")).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('whetstone.apiKey')"));
        browser.AssertNoPageErrors();
    }
}
