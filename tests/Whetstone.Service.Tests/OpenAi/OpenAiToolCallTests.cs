using System.Text.Json.Nodes;
using OpenAI.Chat;
using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Tokenization;

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>A tool call round trip through the official OpenAI .NET client on a Qwen3-template
/// model: the tools are rendered into the prompt as Qwen3's template does, an adapter trained
/// (through the SDK) to answer with a call is served, the client gets the call back as tool_calls,
/// and the call and its result sent back render as the template's &lt;tool_call&gt; and &lt;tool_response&gt;.</summary>
public class OpenAiToolCallTests
{
    const string Target = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>";

    internal static readonly Lazy<string> Qwen3Model = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-service-tests", "models-1k", "tool-qwen3");
        if (File.Exists(Path.Combine(directory, "config.json"))) return directory;
        var staging = directory + "-" + Guid.NewGuid().ToString("N");
        RandomModelWriter.Write(staging, new RandomModelSpec { HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 1024, Seed = 9 });
        // Qwen3's template is what has the think blocks; the renderer factory recognises it by them.
        var configPath = Path.Combine(staging, "tokenizer_config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["chat_template"] = "{# Qwen3: <think> blocks and tools #}" + (string?)config["chat_template"];
        File.WriteAllText(configPath, config.ToJsonString());
        try { Directory.Move(staging, directory); } catch (IOException) { Directory.Delete(staging, true); }
        return directory;
    });

    static ChatCompletionOptions Options()
    {
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 160 };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather in a city",
            BinaryData.FromString("""{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}""")));
        return options;
    }

    [Fact]
    public async Task AToolCallRoundTripsThroughTheOpenAiClient()
    {
        var options = TestServers.Options(TestServers.NewDataDirectory()) with { ModelDirectories = [Qwen3Model.Value] };
        await using var server = new TestHost(await WhetstoneServer.StartAsync(options), owned: true);
        using var client = await OpenAiTestClient.CreateAsync(server, "tools");
        var tokenizer = HuggingFaceTokenizer.Load(Qwen3Model.Value);
        ChatMessage[] question = [new UserChatMessage("Weather in Oslo?")];

        // 1. The prompt the server renders holds the tool definitions as Qwen3's template writes them.
        ChatCompletion first;
        try { first = (await client.OpenAi.GetChatClient("tool-qwen3").CompleteChatAsync(question, Options())).Value; }
        catch (System.ClientModel.ClientResultException e) { throw new Xunit.Sdk.XunitException(e.GetRawResponse()?.Content.ToString() ?? e.Message); }
        var prompt = (await client.LoggedAsync(first.Id))["prompt_tokens"]!.AsArray().Select(t => (int)t!).ToArray();
        var promptText = tokenizer.Decode(prompt);
        Assert.StartsWith("<|im_start|>system\n# Tools\n\nYou may call one or more functions", promptText);
        // Keys in the order the client sent them (it writes description before name), as tojson keeps them.
        Assert.Contains("<tools>\n{\"type\": \"function\", \"function\": {\"description\": \"Weather in a city\", \"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}\n</tools>", promptText);
        Assert.EndsWith("<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n", promptText);

        // 2. An adapter that answers this prompt with the call.
        var target = tokenizer.Encode(Target);
        var tokens = prompt.Concat(target).ToArray();
        var weights = prompt.Select(_ => 0f).Concat(target.Select(_ => 1f)).ToArray();
        // Full fine-tuning: a 32-wide model memorises the call in a few dozen steps.
        var run = await client.Sdk.CreateTrainingClientAsync(new CreateTrainingRunRequest("tool-qwen3") { FullFineTuning = true, Seed = 3 });
        double loss = double.NaN;
        for (int step = 0; step < 120 && !(loss < 0.01); step++)
        {
            var result = await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy(tokens, weights)], "cross_entropy")).ResultAsync();
            loss = result.Metrics["loss:sum"] / target.Count;
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.02 })).ResultAsync();
        }
        Assert.True(loss < 0.1, $"mean loss per target token {loss} after training");
        var adapter = (await (await run.SaveWeightsForSamplerAsync("tool-caller")).ResultAsync()).Path;

        // 3. The client reads the call back.
        var answer = (await client.OpenAi.GetChatClient(adapter).CompleteChatAsync(question, Options())).Value;
        Assert.True(ChatFinishReason.ToolCalls == answer.FinishReason, $"{answer.FinishReason}: {(answer.Content.Count > 0 ? answer.Content[0].Text : "")}");
        var call = Assert.Single(answer.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Oslo", (string?)JsonNode.Parse(call.FunctionArguments.ToString())!["city"]);
        Assert.False(string.IsNullOrEmpty(call.Id));

        // 4. The call and its result, sent back, render as the template's tool_call and tool_response.
        ChatMessage[] followUp = [.. question, new AssistantChatMessage(answer), new ToolChatMessage(call.Id, "{\"temp\": 3}")];
        var second = (await client.OpenAi.GetChatClient(adapter).CompleteChatAsync(followUp, Options())).Value;
        var followUpText = tokenizer.Decode((await client.LoggedAsync(second.Id))["prompt_tokens"]!.AsArray().Select(t => (int)t!).ToArray());
        // Not the last message and without reasoning: the template gives this turn no think block.
        Assert.EndsWith("<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n" +
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\n<tool_response>\n{\"temp\": 3}\n</tool_response><|im_end|>\n<|im_start|>assistant\n", followUpText);

        // tool_choice "none" leaves the tools out of the prompt.
        var none = Options();
        none.ToolChoice = ChatToolChoice.CreateNoneChoice();
        var plain = (await client.OpenAi.GetChatClient("tool-qwen3").CompleteChatAsync(question, none)).Value;
        var plainText = tokenizer.Decode((await client.LoggedAsync(plain.Id))["prompt_tokens"]!.AsArray().Select(t => (int)t!).ToArray());
        Assert.Equal("<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n", plainText);
    }
}
