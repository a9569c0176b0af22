using System.Net;
using System.Text.Json;

namespace Whetstone.Console.Tests;

/// <summary>The console's files are served without a key (they hold no data; the page signs in),
/// only this origin's scripts may run in it, and its page list is the modules under pages/.</summary>
public class ConsoleFilesTests
{
    [Fact]
    public async Task TheConsoleIsServedAtTheRootWithoutAKeyWhileTheApiStillNeedsOne()
    {
        await using var server = await ConsoleServer.StartAsync();
        using var anonymous = server.Raw(null);

        var index = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/console/app.js", await index.Content.ReadAsStringAsync());
        Assert.Contains("default-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single());

        var app = await anonymous.GetAsync("/console/app.js");
        Assert.Equal("text/javascript", app.Content.Headers.ContentType?.MediaType);
        var pages = JsonSerializer.Deserialize<string[]>(await anonymous.GetStringAsync("/console/pages.json"))!;
        Assert.Equal(["checkpoints", "completions", "deployments", "loops", "memories", "runs", "usage"], pages);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/console/no-such-file.js")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/training_runs")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/models")).StatusCode);
    }
}
