using System.Text.Json.Nodes;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.OpenAi;

public class FeedbackTests
{
    static object Ask(int seed) => new { model = TestServers.ModelName, prompt = "Once upon a time", max_tokens = 8, seed, user = "end-user-7" };

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task FeedbackOnAnotherTenantsCompletionIsRefusedAndFeedbackSurvivesARestart(Transport transport)
    {
        var data = TestServers.NewDataDirectory();
        string key, first, second;
        await using (var server = await TestServers.StartAsync(data, transport))
        {
            using var owner = await OpenAiTestClient.CreateAsync(server, "olivia");
            key = owner.Key;
            first = (string)(await owner.PostAsync(Routes.OpenAiCompletions, Ask(1)))["id"]!;
            second = (string)(await owner.PostAsync(Routes.OpenAiCompletions, Ask(2)))["id"]!;

            using var stranger = await OpenAiTestClient.CreateAsync(server, "sam");
            var (status, body) = await stranger.PostFailingAsync(Routes.Feedback, $$"""{"completion_id": "{{first}}", "type": "thumbs_down"}""");
            Assert.Equal(404, status);
            Assert.Equal("completion_id", (string?)body["error"]!["param"]);
            // Nor may a stranger's preference name the owner's completion as the rejected one.
            var own = (string)(await stranger.PostAsync(Routes.OpenAiCompletions, Ask(3)))["id"]!;
            (status, body) = await stranger.PostFailingAsync(Routes.Feedback, $$"""{"completion_id": "{{own}}", "type": "preference", "rejected_completion_id": "{{first}}"}""");
            Assert.Equal(404, status);
            Assert.Equal("rejected_completion_id", (string?)body["error"]!["param"]);
            Assert.Empty(JsonNode.Parse(await stranger.Http.GetStringAsync(Routes.Feedback))!["data"]!.AsArray());
            Assert.DoesNotContain(first, await stranger.Http.GetStringAsync(Routes.CompletionLogExport));

            // Bad feedback is refused by field, and stores nothing.
            foreach (var (json, field) in new[]
            {
                ($$"""{"completion_id": "{{first}}", "type": "rating", "rating": 9}""", "rating"),
                ($$"""{"completion_id": "{{first}}", "type": "correction"}""", "correction"),
                ($$"""{"completion_id": "{{first}}", "type": "smile"}""", "type"),
                ($$"""{"completion_id": "{{first}}", "type": "thumbs_up", "choice_index": 1}""", "choice_index"),
                ("""{"type": "thumbs_up"}""", "completion_id"),
            })
            {
                (status, body) = await owner.PostFailingAsync(Routes.Feedback, json);
                Assert.Equal(400, status);
                Assert.Equal(field, (string?)body["error"]!["param"]);
            }

            await owner.PostAsync(Routes.Feedback, new { completion_id = first, type = "thumbs_up" });
            await owner.PostAsync(Routes.Feedback, new { completion_id = first, type = "rating", rating = 4.5 });
            await owner.PostAsync(Routes.Feedback, new { completion_id = second, type = "correction", correction = "They lived happily.", comment = "too short" });
            await owner.PostAsync(Routes.Feedback, new { completion_id = second, type = "preference", rejected_completion_id = first });
        }

        await using (var restarted = await TestServers.StartAsync(data, transport))
        {
            using var http = TestServers.Raw(restarted, key);
            var feedback = JsonNode.Parse(await http.GetStringAsync(Routes.Feedback))!["data"]!.AsArray();
            Assert.Equal(["thumbs_up", "rating", "correction", "preference"], feedback.Select(f => (string)f!["type"]!));
            Assert.Equal(4.5, (double)feedback[1]!["rating"]!);
            Assert.Equal("They lived happily.", (string?)feedback[2]!["correction"]);
            Assert.Equal(first, (string?)feedback[3]!["rejected_completion_id"]);

            var exported = (await http.GetStringAsync(Routes.FeedbackExport)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, exported.Length);
            Assert.Equal(second, (string?)JsonNode.Parse(exported[2])!["completion_id"]);

            // The completions they refer to survived too, with what is needed to train on them.
            var log = (await http.GetStringAsync(Routes.CompletionLogExport)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            Assert.Equal([first, second], log.Select(l => (string)l["id"]!));
            var entry = log[0];
            Assert.Equal("Once upon a time", (string?)entry["prompt"]);
            Assert.Equal("end-user-7", (string?)entry["user"]);
            Assert.Equal(8, (int)entry["params"]!["max_tokens"]!);
            Assert.Equal(1, (int)entry["params"]!["seed"]!);
            var choice = entry["choices"]![0]!;
            Assert.Equal(choice["tokens"]!.AsArray().Count, choice["logprobs"]!.AsArray().Count);
            Assert.True((double)entry["latency_seconds"]! > 0);

            // Paging: after the first, only the second.
            var page = JsonNode.Parse(await http.GetStringAsync($"{Routes.CompletionLog}?limit=5&after={first}"))!["data"]!.AsArray();
            Assert.Equal([second], page.Select(p => (string)p!["id"]!));
        }
    }
}
