using Microsoft.Playwright;

namespace Whetstone.Console.Tests;

/// <summary>Headless Debian chromium driven by Playwright (its node driver ships in the NuGet
/// package; the browser is the system's, so nothing is downloaded). Where no chromium is
/// installed the test is skipped, by name — .ci/run installs it, so CI runs these.</summary>
internal sealed class ConsoleBrowser : IAsyncDisposable
{
    /// <summary>WHET_CONSOLE_SCREENSHOTS=dir: tests save their pages there (docs/console/ holds the committed ones).</summary>
    static readonly string? ScreenshotDirectory = Environment.GetEnvironmentVariable("WHET_CONSOLE_SCREENSHOTS");

    readonly IPlaywright _playwright;
    readonly IBrowser _browser;
    readonly List<string> _pageErrors = [];
    public IPage Page { get; }

    ConsoleBrowser(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
        // Uncaught script errors, and anything the Content-Security-Policy blocked.
        page.PageError += (_, error) => { lock (_pageErrors) _pageErrors.Add(error); };
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) lock (_pageErrors) _pageErrors.Add(message.Text);
        };
    }

    /// <summary>Fails the test if a script threw or the policy blocked something while it ran.</summary>
    public void AssertNoPageErrors()
    {
        lock (_pageErrors) Assert.True(_pageErrors.Count == 0, string.Join("\n", _pageErrors));
    }

    static string? Chromium() =>
        new[] { Environment.GetEnvironmentVariable("WHET_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    public static async Task<ConsoleBrowser> StartAsync()
    {
        var chromium = Chromium();
        Assert.SkipWhen(chromium is null, "no chromium on this machine (apt-get install chromium, or set WHET_CHROMIUM)");
        // A loaded 2-core machine can take seconds to redraw: wait for what a page should show that long.
        Assertions.SetDefaultExpectTimeout(30_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // Root in CI has no user namespace sandbox; /dev/shm may be small in containers.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 760 } });
        page.SetDefaultTimeout(30_000);
        return new ConsoleBrowser(playwright, browser, page);
    }

    /// <summary>Opens the console and signs in with <paramref name="key"/>.</summary>
    public async Task SignInAsync(Uri server, string key)
    {
        await Page.GotoAsync(server.ToString());
        await Page.FillAsync("#api-key", key);
        await Page.ClickAsync("form.sign-in button[type=submit]");
    }

    public async Task ScreenshotAsync(string name)
    {
        if (string.IsNullOrEmpty(ScreenshotDirectory)) return;
        Directory.CreateDirectory(ScreenshotDirectory);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
