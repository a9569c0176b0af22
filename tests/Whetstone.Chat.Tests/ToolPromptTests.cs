namespace Whetstone.Chat.Tests;

/// <summary>Tool definitions rendered as Qwen3's and Llama 3.1's chat templates render them
/// (expected texts written out by hand from the templates), and calls read back from completions.</summary>
public class ToolPromptTests
{
    const string Weather = """{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}""";

    [Fact]
    public void PythonJsonWritesTojsonsSeparatorsAndIndentation()
    {
        Assert.Equal("""{"a": [1, 2.5, "x\n"], "b": {}, "c": null, "é": true}""", PythonJson.Dumps("""{"a":[1,2.5,"x\n"],"b":{},"c":null,"é":true}"""));
        Assert.Equal("{\n    \"a\": [\n        1\n    ],\n    \"b\": []\n}", PythonJson.Dumps("""{"a":[1],"b":[]}""", indent: 4));
    }

    [Fact]
    public void Qwen3PutsTheToolsBlockInTheSystemTurnAfterTheSystemMessage()
    {
        var renderer = new Qwen3Renderer(RendererTokenizers.ChatMl);
        const string expected = "<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
            """{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}""" +
            "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
            "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n";
        var prompt = renderer.BuildGenerationPrompt([ChatMessage.System("Be brief."), ChatMessage.User("Weather in Oslo?")], [Weather]);
        Assert.Equal(RendererTokenizers.ChatMl.Encode(expected), prompt);
        // Without a system message the block opens the system turn directly.
        var bare = RendererTokenizers.ChatMl.Decode(renderer.BuildGenerationPrompt([ChatMessage.User("Hi")], [Weather]));
        Assert.StartsWith("<|im_start|>system\n# Tools\n", bare);
    }

    [Fact]
    public void Qwen3ReadsAToolCallBack()
    {
        var message = new Qwen3Renderer(RendererTokenizers.ChatMl).ParseText("<think>\nneed weather\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>");
        var call = Assert.Single(message.ToolCalls!);
        Assert.Equal(("get_weather", """{"city": "Oslo"}"""), (call.Name, call.ArgumentsJson));
        Assert.Equal("need weather", message.Reasoning);
    }

    [Fact]
    public void Llama3PutsToolsInTheFirstUserTurnAndReadsAJsonCallBack()
    {
        var renderer = new Llama3Renderer(RendererTokenizers.Llama3);
        ChatMessage[] messages =
        [
            ChatMessage.System("Be brief."), ChatMessage.User("Weather in Oslo?"),
            new("assistant", "") { ToolCalls = [new ToolCall("get_weather", """{"city":"Oslo"}""")] },
            new("tool", "{\"temp\": 3}"),
        ];
        const string expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\n" +
            "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n" +
            "{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_weather\",\n        \"description\": \"Weather in a city\",\n        \"parameters\": {\n            \"type\": \"object\",\n            \"properties\": {\n                \"city\": {\n                    \"type\": \"string\"\n                }\n            },\n            \"required\": [\n                \"city\"\n            ]\n        }\n    }\n}\n\n" +
            "Weather in Oslo?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}<|eot_id|>" +
            "<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": 3}<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(RendererTokenizers.Llama3.Encode(expected), renderer.BuildGenerationPrompt(messages, [Weather]));

        var call = Assert.Single(renderer.ParseText("""{"name": "get_weather", "parameters": {"city": "Bergen"}}<|eot_id|>""").ToolCalls!);
        Assert.Equal(("get_weather", """{"city": "Bergen"}"""), (call.Name, call.ArgumentsJson));
        Assert.Null(renderer.ParseText("""{"temperature": 3}""").ToolCalls);
        Assert.Equal("plain answer", renderer.ParseText("plain answer<|eot_id|>").Content);
    }
}
