using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.OpenAi;

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>The typed /v1 requests: every bad or unsupported field is refused by its name (the
/// `param` of OpenAI's error), whether the JSON type is wrong or the value is.</summary>
public class OpenAiRequestTests
{
    static async Task<OpenAiRequest> ReadChatAsync(string json)
    {
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        var (request, body) = await OpenAiBody.ReadAsync<ChatCompletionRequest>(http.Request);
        return OpenAiRequest.From(request, body);
    }

    static async Task<OpenAiRequest> ReadCompletionAsync(string json)
    {
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        var (request, body) = await OpenAiBody.ReadAsync<CompletionRequest>(http.Request);
        return OpenAiRequest.From(request, body);
    }

    const string Hi = """[{"role": "user", "content": "hi"}]""";

    [Theory]
    [InlineData("""{"model": "m", "messages": [""", "body")]
    [InlineData("""[1, 2]""", "body")]
    [InlineData("""{"messages": MESSAGES}""", "model")]
    [InlineData("""{"model": "m"}""", "messages")]
    [InlineData("""{"model": "m", "messages": []}""", "messages")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "temperature": "hot"}""", "temperature")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "temperature": 2.5}""", "temperature")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "n": 1.5}""", "n")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "n": 0}""", "n")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "top_p": 0}""", "top_p")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "max_completion_tokens": 0}""", "max_completion_tokens")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "stop": 5}""", "stop")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "stop": ["a", "b", "c", "d", "e"]}""", "stop")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "stop": [""]}""", "stop")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "stream": "yes"}""", "stream")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "stream_options": {"include_usage": true}}""", "stream_options")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "stream": true, "stream_options": {"include_usage": 1}}""", "stream_options.include_usage")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "top_logprobs": 3}""", "top_logprobs")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "logprobs": true, "top_logprobs": 21}""", "top_logprobs")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "frequency_penalty": 2.5}""", "frequency_penalty")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "presence_penalty": -2.01}""", "presence_penalty")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "logit_bias": {"5": 101}}""", "logit_bias")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "logit_bias": {"five": 1}}""", "logit_bias")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "logit_bias": {"-5": 1}}""", "logit_bias")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}}""", "response_format.json_schema.schema.type")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": true, "schema": {"type": "object", "properties": {"when": {"type": "string", "format": "hostname"}}}}}}""", "response_format.json_schema.schema.properties.when.format")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "array", "items": {"type": "integer", "multipleOf": 2}}}}}""", "response_format.json_schema.schema.items.multipleOf")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "not": {"type": "object"}}}}}""", "response_format.json_schema.schema.not")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}}""", "response_format.json_schema.name")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}""", "response_format.json_schema.schema")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "response_format": {"type": "json_schema"}}""", "response_format.json_schema")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "response_format": {"type": "yaml"}}""", "response_format.type")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tools": [{"type": "function"}]}""", "tools[0].function")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tools": [{"type": "retrieval"}]}""", "tools[0].type")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tools": [{"type": "function", "function": {}}]}""", "tools[0].function.name")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tool_choice": "required"}""", "tools")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tool_choice": {"type": "function", "function": {"name": "f"}}}""", "tools")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tool_choice": {"type": "function", "function": {"name": "g"}}, "tools": [{"type": "function", "function": {"name": "f"}}]}""", "tool_choice.function.name")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tool_choice": {"type": "function", "function": {}}, "tools": [{"type": "function", "function": {"name": "f"}}]}""", "tool_choice.function.name")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tool_choice": {"type": "tool", "function": {"name": "f"}}, "tools": [{"type": "function", "function": {"name": "f"}}]}""", "tool_choice.type")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"d": {"type": "string", "format": "hostname"}}}}}]}""", "tools[0].function.parameters.properties.d.format")]
    [InlineData("""{"model": "m", "messages": MESSAGES, "tool_choice": "sometimes"}""", "tool_choice")]
    [InlineData("""{"model": "m", "messages": [{"content": "hi"}]}""", "messages[0].role")]
    [InlineData("""{"model": "m", "messages": [{"role": "robot", "content": "hi"}]}""", "messages[0].role")]
    [InlineData("""{"model": "m", "messages": [{"role": "user"}]}""", "messages[0].content")]
    [InlineData("""{"model": "m", "messages": [{"role": "user", "content": 7}]}""", "messages[0].content")]
    [InlineData("""{"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]}]}""", "messages[0].content[1].image_url.url")]   // image parts are accepted (#17); this one lacks its url
    [InlineData("""{"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"type": "function"}]}]}""", "messages[0].tool_calls[0].function")]
    [InlineData("""{"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}]}""", "messages[0].tool_calls[0].function.name")]
    [InlineData("""{"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    public async Task ABadChatFieldIsRefusedByName(string json, string param)
    {
        var error = await Assert.ThrowsAsync<ApiError>(() => ReadChatAsync(json.Replace("MESSAGES", Hi)));
        Assert.Equal(param, error.Field);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, error.Status);
    }

    [Theory]
    [InlineData("""{"model": "m"}""", "prompt")]
    [InlineData("""{"model": "m", "prompt": {"a": 1}}""", "prompt")]
    [InlineData("""{"model": "m", "prompt": [1, "x"]}""", "prompt")]
    [InlineData("""{"model": "m", "prompt": ["a", "b"]}""", "prompt")]
    [InlineData("""{"model": "m", "prompt": [[1, 2], [3]]}""", "prompt")]
    [InlineData("""{"model": "m", "prompt": "x", "logprobs": 6}""", "logprobs")]
    [InlineData("""{"model": "m", "prompt": "x", "logprobs": true}""", "logprobs")]
    [InlineData("""{"model": "m", "prompt": "x", "best_of": 2}""", "best_of")]
    [InlineData("""{"model": "m", "prompt": "x", "echo": true}""", "echo")]
    [InlineData("""{"model": "m", "prompt": "x", "suffix": "y"}""", "suffix")]
    [InlineData("""{"model": "m", "prompt": "x", "max_tokens": -1}""", "max_tokens")]
    [InlineData("""{"model": "m", "prompt": "x", "seed": "s"}""", "seed")]
    public async Task ABadCompletionFieldIsRefusedByName(string json, string param)
    {
        var error = await Assert.ThrowsAsync<ApiError>(() => ReadCompletionAsync(json));
        Assert.Equal(param, error.Field);
    }

    [Fact]
    public async Task AGoodChatRequestKeepsItsValuesAndTheMessagesAsSent()
    {
        var request = await ReadChatAsync("""
            {"model": "m", "messages": [{"role": "developer", "content": "Be terse."},
                                        {"role": "user", "content": [{"type": "text", "text": "2+"}, {"type": "text", "text": "2?"}], "name": "u"}],
             "max_tokens": 9, "max_completion_tokens": 7, "temperature": 0, "top_p": 0.5, "n": 3, "stop": "\n", "seed": 4294967297,
             "logprobs": true, "top_logprobs": 2, "stream": true, "stream_options": {"include_usage": true}, "user": "u-1", "unknown_field": 1}
            """);
        Assert.Equal(7, request.MaxTokens);   // max_completion_tokens wins
        Assert.Equal((0.0, 0.5, 3), (request.Temperature, request.TopP, request.N));
        Assert.Equal(["\n"], request.Stop);
        Assert.Equal(0, request.Seed);        // 2^32 + 1: the halves folded, 1 ^ 1
        Assert.Equal((true, 2, true, true, "u-1"), (request.Logprobs, request.TopLogprobs, request.Stream, request.IncludeUsage, request.User));
        Assert.Equal(["system", "user"], request.Messages!.Select(m => m.Role));
        Assert.Equal("2+2?", request.Messages![1].Content);
        Assert.Equal("u", (string?)JsonNode.Parse(request.AsSent.GetRawText())![1]!["name"]);   // logged as sent
    }

    [Fact]
    public async Task PenaltiesAndLogitBiasAreReadWithTokenIdKeys()
    {
        var request = await ReadChatAsync("""
            {"model": "m", "messages": [{"role": "user", "content": "hi"}], "presence_penalty": 0.5, "frequency_penalty": -1.5,
             "logit_bias": {"5": 10, "1234": -100}}
            """);
        Assert.Equal((0.5, -1.5), (request.PresencePenalty, request.FrequencyPenalty));
        Assert.Equal(new Dictionary<int, float> { [5] = 10, [1234] = -100 }, request.LogitBias);
    }

    [Fact]
    public async Task ACompletionPromptMayBeTextOrTokenIdsInEachOfOpenAisShapes()
    {
        Assert.Equal("a b", (await ReadCompletionAsync("""{"model": "m", "prompt": "a b"}""")).PromptText);
        Assert.Equal("a b", (await ReadCompletionAsync("""{"model": "m", "prompt": ["a b"]}""")).PromptText);
        Assert.Equal([5, 6], (await ReadCompletionAsync("""{"model": "m", "prompt": [5, 6]}""")).PromptTokens);
        Assert.Equal([5, 6], (await ReadCompletionAsync("""{"model": "m", "prompt": [[5, 6]]}""")).PromptTokens);
        var withLogprobs = await ReadCompletionAsync("""{"model": "m", "prompt": "x", "logprobs": 0}""");
        Assert.Equal((true, 0), (withLogprobs.Logprobs, withLogprobs.TopLogprobs));
    }

    [Fact]
    public void ResponsesWriteTheFieldsOpenAiAlwaysSendsEvenWhenNull()
    {
        var chunk = new TextCompletion("cmpl-1", 5, "m", [new TextChoice(0, "hi", null)]);
        var json = JsonNode.Parse(JsonSerializer.Serialize(chunk, ProtocolJson.Options))!;
        Assert.Equal("text_completion", (string?)json["object"]);
        var choice = json["choices"]![0]!.AsObject();
        Assert.True(choice.ContainsKey("finish_reason") && choice["finish_reason"] is null);
        Assert.True(choice.ContainsKey("logprobs") && choice["logprobs"] is null);
        Assert.False(json.AsObject().ContainsKey("usage"));   // only on the last event, when asked for
        var usage = JsonNode.Parse(JsonSerializer.Serialize(new Usage(3, 4), ProtocolJson.Options))!;
        Assert.Equal(7, (int)usage["total_tokens"]!);
    }
}
