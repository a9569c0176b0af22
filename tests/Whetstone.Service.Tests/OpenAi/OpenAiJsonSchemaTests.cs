using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI.Chat;
using Whetstone.Engine.Sampling.Json;
using Whetstone.Engine.Tests.Sampling;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;
using SchemaValidator = Json.Schema.JsonSchema;

#pragma warning disable OPENAI001 // Seed is marked experimental in the OpenAI package

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>response_format json_schema through the OpenAI .NET client against a running
/// server: 50 seeded fuzzed schemas × 2 seeds, every answer of the tiny random model parses and
/// validates against its schema (JsonSchema.Net, independent of the decoder); a keyword the
/// decoder cannot honour, or a max_tokens below the schema's shortest instance, is a 400 naming it.</summary>
public class OpenAiJsonSchemaTests
{
    [Fact]
    public async Task EveryAnswerValidatesAgainstItsFuzzedSchema()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "schema");
        var chat = client.OpenAi.GetChatClient(TestServers.ModelName);
        ChatMessage[] question = [new UserChatMessage("Answer in JSON.")];
        var random = new Random(2020);
        int answers = 0, nonEmptyObjects = 0;
        for (int s = 0; s < 50; s++)
        {
            var schemaJson = s % 3 == 0 ? RandomJsonSchemas.Next(random) : RandomJsonSchemas.NextObject(random);
            string schemaText = schemaJson.ToJsonString();
            int shortest = JsonConstraint.TokensNeeded(JsonSchemaCompiler.Compile(JsonDocument.Parse(schemaText).RootElement));
            var validator = SchemaValidator.FromText(schemaText);
            for (int seed = 0; seed < 2; seed++)
            {
                var options = new ChatCompletionOptions
                {
                    Seed = s * 2 + seed, Temperature = 1f, MaxOutputTokenCount = shortest + (seed == 0 ? 0 : 40),
                    ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat($"fuzz_{s}", BinaryData.FromString(schemaText), jsonSchemaIsStrict: true),
                };
                var answer = (await chat.CompleteChatAsync(question, options)).Value;
                var text = answer.Content.Count == 0 ? "" : answer.Content[0].Text;
                using var document = JsonDocument.Parse(text);
                Assert.True(validator.Evaluate(document.RootElement, new Json.Schema.EvaluationOptions { RequireFormatValidation = true }).IsValid, $"schema {schemaText}, seed {seed}: {text}");
                answers++;
                if (document.RootElement is { ValueKind: JsonValueKind.Object } o && o.EnumerateObject().Any()) nonEmptyObjects++;
            }
        }
        Assert.Equal(100, answers);
        Assert.True(nonEmptyObjects > 30, $"only {nonEmptyObjects} answers were non-empty objects: the schemas tested little");
    }

    [Fact]
    public async Task UnsupportedKeywordsAndTooFewTokensAreRefusedByName()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "schema");
        string Request(string schema, int maxTokens) => """
            {"model": "MODEL", "max_tokens": MAX, "messages": [{"role": "user", "content": "hi"}],
             "response_format": {"type": "json_schema", "json_schema": {"name": "s", "strict": true, "schema": SCHEMA}}}
            """.Replace("SCHEMA", schema).Replace("MODEL", TestServers.ModelName).Replace("MAX", maxTokens.ToString());
        var (status, body) = await client.PostFailingAsync(Routes.OpenAiChatCompletions,
            Request("""{"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "integer", "multipleOf": 5}}}}""", 50));
        Assert.Equal(400, status);
        Assert.Equal("response_format.json_schema.schema.properties.tags.items.multipleOf", (string?)body["error"]!["param"]);
        // {"name":"","age":0} is 19 bytes and the stop token one more: 19 tokens cannot hold them, 20 can.
        const string person = """{"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"], "additionalProperties": false}""";
        (status, body) = await client.PostFailingAsync(Routes.OpenAiChatCompletions, Request(person, 19));
        Assert.Equal(400, status);
        Assert.Equal("max_tokens", (string?)body["error"]!["param"]);
        var answer = await client.PostAsync(Routes.OpenAiChatCompletions, JsonNode.Parse(Request(person, 20))!);
        var content = JsonNode.Parse((string)answer["choices"]![0]!["message"]!["content"]!)!.AsObject();
        Assert.Equal(["name", "age"], content.Select(p => p.Key));
        Assert.Equal("stop", (string?)answer["choices"]![0]!["finish_reason"]);
    }
}
