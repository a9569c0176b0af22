using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Whetstone.Client;

namespace Whetstone.Cli.Tests;

/// <summary>`whet chat` against a real server: each stdin line a turn, answers streamed from
/// /v1/chat/completions with the conversation so far, for a base model and a deployment alias.</summary>
public class ChatCommandTests
{
    [Fact]
    public async Task StreamedTurnsEqualTheServersWholeAnswersWithTheHistory()
    {
        await using var server = await CliServer.StartAsync();
        using (var client = ServiceClient.Connect(new Uri(server.Url), server.AliceKey))
        {
            var run = await client.CreateLoraTrainingClientAsync("whet-nano", rank: 2);
            server.Alice("deployment", "create", "helper", "--checkpoint", (await (await run.SaveWeightsForSamplerAsync("nano")).ResultAsync()).Path);
        }

        foreach (var model in new[] { "whet-nano", "helper@latest" })
        {
            var outcome = WithInput("hello\nand again\n", () => server.As(server.AliceKey, "chat", "--model", model, "--temperature", "0", "--max-tokens", "16", "--json"));
            Assert.True(outcome.ExitCode == 0, outcome.Stderr);
            var answers = outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
            Assert.Equal(2, answers.Count);

            // The same conversations asked whole (stream=false): the first turn alone, then with the first answer.
            string first = (string)answers[0]["content"]!, second = (string)answers[1]["content"]!;
            Assert.NotEmpty(first);
            Assert.Equal(first, await WholeAnswerAsync(server, model, [("user", "hello")]));
            Assert.Equal(second, await WholeAnswerAsync(server, model, [("user", "hello"), ("assistant", first), ("user", "and again")]));
            Assert.Equal("stop", (string?)answers[0]["finish_reason"]);

            // Without --json the same answers are streamed as plain text, one line per turn.
            var plain = WithInput("hello\n", () => server.As(server.AliceKey, "chat", "--model", model, "--temperature", "0", "--max-tokens", "16"));
            Assert.Equal(first + Environment.NewLine, plain.Stdout);
        }

        // Another tenant's alias and an unknown model are refused by the server, naming the field.
        var foreign = WithInput("hello\n", () => server.As(server.BobKey, "chat", "--model", "helper@latest"));
        Assert.Equal(2, foreign.ExitCode);
        Assert.Contains("model", foreign.Stderr);
        var badKey = WithInput("hello\n", () => server.As("whet_not_a_key", "chat", "--model", "helper@latest"));
        Assert.Equal((2, ""), (badKey.ExitCode, badKey.Stdout));
        Assert.Contains("401", badKey.Stderr);
    }

    static WhetOutcome WithInput(string input, Func<WhetOutcome> run)
    {
        var stdin = Console.In;
        Console.SetIn(new StringReader(input));
        try { return run(); }
        finally { Console.SetIn(stdin); }
    }

    static async Task<string> WholeAnswerAsync(CliServer server, string model, (string Role, string Text)[] messages)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AliceKey);
        var body = new JsonObject
        {
            ["model"] = model, ["temperature"] = 0, ["max_tokens"] = 16,
            ["messages"] = new JsonArray(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Text }).ToArray()),
        };
        var response = await http.PostAsync("/v1/chat/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return (string)JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!;
    }
}
