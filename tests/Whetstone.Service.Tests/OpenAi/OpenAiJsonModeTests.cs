using System.Text.Json;
using OpenAI.Chat;
using Whetstone.Service.Tests.EndToEnd;

#pragma warning disable OPENAI001 // Seed is marked experimental in the OpenAI package

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>response_format json_object through the OpenAI .NET client: every seeded answer of
/// the tiny random model is one JSON object, whatever its max_tokens.</summary>
public class OpenAiJsonModeTests
{
    [Fact]
    public async Task JsonObjectAnswersAreAlwaysJsonObjects()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "json");
        var chat = client.OpenAi.GetChatClient(TestServers.ModelName);
        ChatMessage[] question = [new UserChatMessage("Give me a JSON object.")];
        for (int seed = 0; seed < 24; seed++)
        {
            var options = new ChatCompletionOptions
            {
                Seed = seed, Temperature = 1f, MaxOutputTokenCount = 6 + seed * 2,
                ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(),
            };
            var answer = (await chat.CompleteChatAsync(question, options)).Value;
            var text = answer.Content.Count == 0 ? "" : answer.Content[0].Text;
            using var document = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
    }
}
