using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Tests.OpenAi;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>The SDK's deployment, completion-log, feedback and reward-model clients against a
/// running server: a deployment promoted and rolled back, answers served through it and read back
/// from the log, feedback of all five kinds, and the deployment's reward model trained on it.</summary>
public class ExperienceSdkTests
{
    [Theory, InlineData(Transport.InMemory), InlineData(Transport.Http)]
    public async Task DeploymentsLogFeedbackAndRewardModelThroughTheSdk(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await OpenAiTestClient.CreateAsync(server, "sue");
        var sdk = client.Sdk;
        string first = await client.TrainedAdapterAsync(seed: 1), second = await client.TrainedAdapterAsync(seed: 2, name: "w2");

        // Deployments: create with v1, promote v2, roll back to v1 and forward to v2.
        Assert.Equal(1, (await sdk.Deployments.CreateAsync("helper", first)).CurrentVersion);
        Assert.Equal(2, (await sdk.Deployments.PromoteAsync("helper", second)).CurrentVersion);
        Assert.Equal([first, second], (await sdk.Deployments.VersionsAsync("helper")).Select(v => v.Checkpoint));
        Assert.Equal(1, (await sdk.Deployments.RollbackAsync("helper")).CurrentVersion);
        Assert.Equal(2, (await sdk.Deployments.RollbackAsync("helper", version: 2)).CurrentVersion);
        Assert.Equal(["helper"], (await sdk.Deployments.ListAsync()).Select(d => d.Name));
        Assert.Equal(2, (await sdk.Deployments.GetAsync("helper")).CurrentVersion);
        var missing = await Assert.ThrowsAsync<WhetstoneApiException>(() => sdk.Deployments.RollbackAsync("helper", version: 7));
        Assert.Equal((HttpStatusCode.BadRequest, "version"), (missing.StatusCode, missing.Field));

        // Three answers through the alias, two users.
        var ids = new List<string>();
        foreach (var (seed, user) in new[] { (1, "ann"), (2, "bob"), (3, "ann") })
            ids.Add((string)(await client.PostAsync(Routes.OpenAiCompletions, new { model = "helper@latest", prompt = "Once upon a time", max_tokens = 6, seed, user }))["id"]!);

        // The completion log: pages, filters, export.
        var page = await sdk.CompletionLog.ListAsync(limit: 2);
        Assert.Equal(ids[..2], page.Select(e => e.Id));
        Assert.Equal([ids[2]], (await sdk.CompletionLog.ListAsync(limit: 2, after: page[^1].Id)).Select(e => e.Id));
        Assert.Equal([ids[0], ids[2]], await sdk.CompletionLog.ListAllAsync(user: "ann", pageSize: 1).Select(e => e.Id).ToListAsync());
        Assert.Equal(ids, await sdk.CompletionLog.ListAllAsync(deployment: "helper").Select(e => e.Id).ToListAsync());
        Assert.Equal(ids, await sdk.CompletionLog.ListAllAsync(deployment: "helper@v2").Select(e => e.Id).ToListAsync());
        Assert.Empty(await sdk.CompletionLog.ListAllAsync(deployment: "helper@v1").ToListAsync());
        Assert.Equal(3, (await ReadLinesAsync(await sdk.CompletionLog.ExportAsync())).Count);

        // Feedback of all five kinds, listed and exported.
        await sdk.Feedback.ThumbsUpAsync(ids[0]);
        await sdk.Feedback.ThumbsDownAsync(ids[1], comment: "off topic");
        await sdk.Feedback.RateAsync(ids[2], 4);
        var correction = await sdk.Feedback.CorrectAsync(ids[1], "A better story.");
        await sdk.Feedback.PreferAsync(ids[0], ids[1]);
        Assert.Equal(["thumbs_up", "thumbs_down", "rating", "correction", "preference"], (await sdk.Feedback.ListAsync()).Select(f => f.Type));
        Assert.Equal([correction.Id], await sdk.Feedback.ListAllAsync(type: "correction", pageSize: 2).Select(f => f.Id).ToListAsync());
        Assert.Equal(5, (await ReadLinesAsync(await sdk.Feedback.ExportAsync())).Count);
        var badRating = await Assert.ThrowsAsync<WhetstoneApiException>(() => sdk.Feedback.RateAsync(ids[0], 9));
        Assert.Equal((HttpStatusCode.BadRequest, "rating"), (badRating.StatusCode, badRating.Field));
        Assert.Equal(5, (await sdk.Feedback.ListAsync()).Count);

        // The deployment's reward model: base model from the deployment, the five events in one update.
        var settings = new RewardModelSettings { Rank = 4, AutoUpdate = false, StepsPerUpdate = 2 };
        var created = await sdk.RewardModels.CreateAsync("helper", settings);
        Assert.Equal((TestServers.ModelName, 0, 5L), (created.BaseModel, created.Version, created.EventsPending));
        var update = await sdk.RewardModels.UpdateNowAsync("helper");
        Assert.True(update.Updated);
        Assert.Equal(1, update.Version!.Version);
        Assert.Equal((await sdk.Feedback.ListAsync()).Select(f => f.Id), update.Version.FeedbackIds);
        Assert.Equal(5, update.Prequential!.Predicted);
        Assert.False((await sdk.RewardModels.UpdateNowAsync("helper")).Updated);
        var status = await sdk.RewardModels.GetAsync("helper");
        Assert.Equal((1, 5L, 0L), (status.Version, status.EventsSeen, status.EventsPending));
        Assert.Equal(update.Prequential.Accuracy, Assert.Single(status.Prequential).Accuracy);
        Assert.Equal([0, 1], (await sdk.RewardModels.VersionsAsync("helper")).Select(v => v.Version));
        var logged = await sdk.CompletionLog.ListAsync();
        var scored = await sdk.RewardModels.ScoreAsync("helper", logged.Select(e => new AnswerToScore(e.PromptTokens, e.Choices[0].Tokens)).ToArray());
        Assert.Equal((1, 3), (scored.Version, scored.Scores.Count));
        var sft = Assert.Single(await sdk.RewardModels.CorrectionsAsync("helper"));
        Assert.Equal((correction.Id, "A better story."), (sft.FeedbackId, sft.Correction));
        Assert.Equal(logged[1].PromptTokens, sft.PromptTokens);
        Assert.Equal(logged.Single(e => e.Id == ids[1]).Choices[0].Text, sft.Original);   // what the user corrected (the loop's corrections_keeping_answer reads it)

        // Bad input: 4xx naming the field, nothing stored.
        foreach (var (call, status_, field) in new (Func<Task>, HttpStatusCode, string?)[]
        {
            (() => sdk.RewardModels.ScoreAsync("helper", []), HttpStatusCode.BadRequest, "pairs"),
            (() => sdk.RewardModels.ScoreAsync("helper", [new AnswerToScore([1, 2], [3, 1_000_000])]), HttpStatusCode.BadRequest, "pairs[0].answer_tokens[1]"),
            (() => sdk.RewardModels.ScoreAsync("helper", [new AnswerToScore([1, 2], [])]), HttpStatusCode.BadRequest, "pairs[0].answer_tokens"),
            (() => sdk.RewardModels.CreateAsync("helper"), HttpStatusCode.Conflict, null),
            (() => sdk.RewardModels.CreateAsync("nope"), HttpStatusCode.NotFound, null),
            (() => sdk.RewardModels.GetAsync("nope"), HttpStatusCode.NotFound, null),
        })
        {
            var error = await Assert.ThrowsAsync<WhetstoneApiException>(call);
            Assert.Equal((status_, field), (error.StatusCode, error.Field));
        }
        await sdk.Deployments.CreateAsync("empty");
        foreach (var (body, field) in new[]
        {
            ("""{"settings": {"user_cap": 0}}""", "settings.user_cap"),
            ("""{"settings": {"batch_events": 0}}""", "settings.batch_events"),
            ("""{"settings": {"replay_fraction": 0.95}}""", "settings.replay_fraction"),
            ("""{"settings": {"steps_per_update": 1000}}""", "settings.steps_per_update"),
            ("""{"settings": {"batch_events": "many"}}""", "settings.batch_events"),
            ("""{}""", "base_model"),                              // "empty" has no version to take it from
            ("""{"base_model": "no-such-model"}""", "base_model"),
        })
        {
            var response = await client.Http.PostAsync(Routes.RewardModel("empty"), new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body}: {(int)response.StatusCode} {text}");
            Assert.Equal(field, (string?)JsonNode.Parse(text)!["error"]!["field"]);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<WhetstoneApiException>(() => sdk.RewardModels.GetAsync("empty"))).StatusCode);
        // The refusals started no run: the one reward-model run is "helper"'s, marked as such.
        var marked = (await sdk.CreateRestClient().ListTrainingRunsAsync()).Runs
            .Where(r => r.UserMetadata?.GetValueOrDefault(Whetstone.Service.Experience.RewardModels.RewardModelService.RunMarker) is not null).ToList();
        Assert.Equal(created.RunId, Assert.Single(marked).RunId);
        Assert.Equal("helper", marked[0].UserMetadata![Whetstone.Service.Experience.RewardModels.RewardModelService.RunMarker]);
    }

    static async Task<List<string>> ReadLinesAsync(Stream stream)
    {
        using var reader = new StreamReader(stream);
        return (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }
}
