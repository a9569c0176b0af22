using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI.Chat;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Tests.EndToEnd;
using SchemaValidator = Json.Schema.JsonSchema;

#pragma warning disable OPENAI001 // Seed is marked experimental in the OpenAI package

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>tool_choice through the OpenAI .NET client on an untrained Qwen3-template model: left
/// to itself ("auto") it does not write calls, yet "required" makes every answer one call to one
/// of the tools and a named function makes it a call to that one, with arguments valid against
/// the function's parameters (checked with JsonSchema.Net); a name not among the tools is a 400
/// naming tool_choice.function.name.</summary>
public class OpenAiToolChoiceTests
{
    const string WeatherParameters = """{"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}""";
    const string TimeParameters = """{"type": "object", "properties": {"zone": {"enum": ["UTC", "CET"]}}, "required": ["zone"], "additionalProperties": false}""";

    static ChatCompletionOptions Options(int seed, ChatToolChoice? choice)
    {
        var options = new ChatCompletionOptions { Temperature = 1f, Seed = seed, MaxOutputTokenCount = 120, ToolChoice = choice };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather in a city", BinaryData.FromString(WeatherParameters)));
        options.Tools.Add(ChatTool.CreateFunctionTool("get_time", "The time in a zone", BinaryData.FromString(TimeParameters)));
        return options;
    }

    static readonly Dictionary<string, SchemaValidator> Parameters = new()
    {
        ["get_weather"] = SchemaValidator.FromText(WeatherParameters), ["get_time"] = SchemaValidator.FromText(TimeParameters),
    };

    [Fact]
    public async Task RequiredAndNamedChoicesForceAValidCall()
    {
        var options = TestServers.Options(TestServers.NewDataDirectory()) with { ModelDirectories = [OpenAiToolCallTests.Qwen3Model.Value] };
        await using var server = new TestHost(await WhetstoneServer.StartAsync(options), owned: true);
        using var client = await OpenAiTestClient.CreateAsync(server, "tool-choice");
        var chat = client.OpenAi.GetChatClient("tool-qwen3");
        ChatMessage[] question = [new UserChatMessage("What time is it in Oslo, and how warm?")];

        int autoCalls = 0;
        var requiredNames = new HashSet<string>();
        for (int seed = 0; seed < 10; seed++)
        {
            var auto = (await chat.CompleteChatAsync(question, Options(seed, ChatToolChoice.CreateAutoChoice()))).Value;
            autoCalls += auto.ToolCalls.Count;

            var required = (await chat.CompleteChatAsync(question, Options(seed, ChatToolChoice.CreateRequiredChoice()))).Value;
            requiredNames.Add(AssertOneValidCall(required).FunctionName);

            var named = (await chat.CompleteChatAsync(question, Options(seed, ChatToolChoice.CreateFunctionChoice("get_time")))).Value;
            var call = AssertOneValidCall(named);
            Assert.Equal("get_time", call.FunctionName);
            Assert.Contains((string?)JsonNode.Parse(call.FunctionArguments.ToString())!["zone"], new[] { "UTC", "CET" });
        }
        Assert.Equal(0, autoCalls);   // the untrained model does not call on its own: the calls above were forced
        Assert.Equal(["get_time", "get_weather"], requiredNames.Order());

        var (status, body) = await client.PostFailingAsync(Routes.OpenAiChatCompletions, """
            {"model": "tool-qwen3", "messages": [{"role": "user", "content": "news?"}], "tool_choice": {"type": "function", "function": {"name": "get_news"}},
             "tools": [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]}
            """);
        Assert.Equal(400, status);
        Assert.Equal("tool_choice.function.name", (string?)body["error"]!["param"]);
        Assert.Contains("get_news", (string?)body["error"]!["message"]);
    }

    static ChatToolCall AssertOneValidCall(ChatCompletion answer)
    {
        Assert.True(ChatFinishReason.ToolCalls == answer.FinishReason, $"{answer.FinishReason}: {(answer.Content.Count > 0 ? answer.Content[0].Text : "")}");
        var call = Assert.Single(answer.ToolCalls);
        using var arguments = JsonDocument.Parse(call.FunctionArguments.ToString());
        Assert.True(Parameters[call.FunctionName].Evaluate(arguments.RootElement).IsValid, $"{call.FunctionName}({arguments.RootElement.GetRawText()})");
        return call;
    }
}
