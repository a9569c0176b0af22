using System.Net;
using System.Net.Http.Json;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>Paged lists (runs, a run's checkpoints, the caller's checkpoints across runs) and
/// weights info by path, through the SDK against a running in-memory server.</summary>
public class ListingTests
{
    [Fact]
    public async Task RunsAndCheckpointsPageByLimitAndOffsetWithTheTotalInTheCursor()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        using var client = await TestServers.ClientAsync(server, "pager");
        var runs = new List<TrainingClient>();
        for (int i = 0; i < 3; i++) runs.Add(await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2, seed: i));

        var first = await client.ListTrainingRunsAsync(limit: 2, offset: 0);
        var second = await client.ListTrainingRunsAsync(limit: 2, offset: 2);
        Assert.Equal(new Cursor(0, 2, 3), first.Cursor);
        Assert.Equal(new Cursor(2, 2, 3), second.Cursor);
        Assert.Equal(2, first.Runs.Count);
        Assert.Single(second.Runs);
        // Newest first, and the two pages together are every run exactly once.
        Assert.Equal(runs.Select(r => r.RunId).Reverse(), first.Runs.Concat(second.Runs).Select(r => r.RunId));
        var past = await client.ListTrainingRunsAsync(limit: 5, offset: 7);
        Assert.Empty(past.Runs);
        Assert.Equal(new Cursor(7, 5, 3), past.Cursor);

        var run = runs[0];
        var saved = new List<string>();
        foreach (var name in new[] { "a", "b", "c" }) saved.Add((await (await run.SaveStateAsync(name)).ResultAsync()).Path);
        var page1 = await client.ListCheckpointsAsync(run.RunId, limit: 2);
        var page2 = await client.ListCheckpointsAsync(run.RunId, limit: 2, offset: 2);
        Assert.Equal(new Cursor(0, 2, 3), page1.Cursor);
        Assert.Equal(new Cursor(2, 2, 3), page2.Cursor);
        Assert.Equal(saved, page1.Checkpoints.Concat(page2.Checkpoints).Select(c => c.Path));

        // Another tenant sees none of it: an empty list, and the run's checkpoints are a 404.
        using var other = await TestServers.ClientAsync(server, "stranger");
        var theirs = await other.ListTrainingRunsAsync();
        Assert.Empty(theirs.Runs);
        Assert.Equal(0, theirs.Cursor!.TotalCount);
        var hidden = await Assert.ThrowsAsync<WhetstoneApiException>(() => other.ListCheckpointsAsync(run.RunId));
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);

        // Without paging parameters a list is whole (what the CLI and console rely on).
        using var raw = TestServers.Raw(server, await TestServers.KeyAsync(server, "pager"));
        var whole = await raw.GetFromJsonAsync<TrainingRunList>(Routes.TrainingRuns, ProtocolJson.Options);
        Assert.Equal(new Cursor(0, 3, 3), whole!.Cursor);
    }

    [Theory]
    [InlineData("limit=0", "limit"), InlineData("limit=1001", "limit"), InlineData("limit=two", "limit"), InlineData("limit=-3", "limit"),
     InlineData("offset=-1", "offset"), InlineData("limit=2&offset=1.5", "offset")]
    public async Task BadPagingIsA400NamingTheField(string query, string field)
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        var key = await TestServers.KeyAsync(server, "pager");
        using var client = server.Client(key);
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        using var raw = TestServers.Raw(server, key);
        foreach (var route in new[] { Routes.TrainingRuns, Routes.RunCheckpoints(run.RunId), ListingRoutes.UserCheckpoints })
        {
            var response = await raw.GetAsync($"{route}?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>(ProtocolJson.Options))!.Error;
            Assert.Equal(field, error.Field);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = client.ListTrainingRunsAsync(limit: 0); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = client.ListUserCheckpointsAsync(offset: -1); });
    }

    [Fact]
    public async Task UserCheckpointsSpanTheCallersRunsNewestFirstAndNoOneElses()
    {
        await using var server = await TestServers.StartAsync(transport: Transport.InMemory);
        using var client = await TestServers.ClientAsync(server, "owner");
        using var other = await TestServers.ClientAsync(server, "neighbour");
        var a = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        var b = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        var theirs = await other.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        var saved = new List<string>
        {
            (await (await a.SaveStateAsync("one")).ResultAsync()).Path,
            (await (await b.SaveWeightsForSamplerAsync("two")).ResultAsync()).Path,
            (await (await a.SaveWeightsForSamplerAsync("three")).ResultAsync()).Path,
        };
        await (await theirs.SaveStateAsync("secret")).ResultAsync();

        var page1 = await client.ListUserCheckpointsAsync(limit: 2);
        var page2 = await client.ListUserCheckpointsAsync(limit: 2, offset: 2);
        Assert.Equal(new Cursor(0, 2, 3), page1.Cursor);
        Assert.Equal(new Cursor(2, 2, 3), page2.Cursor);
        Assert.Equal(Enumerable.Reverse(saved), page1.Checkpoints.Concat(page2.Checkpoints).Select(c => c.Path));
        Assert.Equal([a.RunId, b.RunId, a.RunId], Enumerable.Reverse(page1.Checkpoints.Concat(page2.Checkpoints).Select(c => c.RunId).ToArray()));

        var neighbours = await other.ListUserCheckpointsAsync();
        Assert.Equal(["secret"], neighbours.Checkpoints.Select(c => c.Name));
        Assert.Equal(new Cursor(0, 100, 1), neighbours.Cursor);
    }
}
