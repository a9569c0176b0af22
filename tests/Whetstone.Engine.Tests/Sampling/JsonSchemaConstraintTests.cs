using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SchemaValidator = Json.Schema.JsonSchema;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Sampling.Json;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>Schema-constrained decoding: the recogniser's verdicts and closing costs on known
/// texts, unsupported keywords refused by path, and 200 seeded samples of a random model under
/// 50 fuzzed schemas (budgets from exactly the shortest instance and its stop token up) that all validate against
/// their schema with an independent validator (JsonSchema.Net).</summary>
public class JsonSchemaConstraintTests(SamplerFixture fixture) : IClassFixture<SamplerFixture>
{
    static JsonSchemaNode Compile(string schema) => JsonSchemaCompiler.Compile(JsonDocument.Parse(schema).RootElement);

    static SchemaPrefixState? Run(JsonSchemaNode schema, string text)
    {
        SchemaPrefixState? state = SchemaPrefixState.Begin(schema);
        foreach (var b in Encoding.UTF8.GetBytes(text)) if ((state = state!.Feed(b)) is null) return null;
        return state;
    }

    static bool Valid(string schema, string text)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(text); }
        catch (JsonException) { return false; }
        using (document) return SchemaValidator.FromText(schema).Evaluate(document.RootElement).IsValid;
    }

    const string Person = """
        {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","bc"]},"maxItems":2},
         "pet":{"anyOf":[{"type":"null"},{"type":"object","properties":{"kind":{"type":"string"}},"required":["kind"],"additionalProperties":false}]}},
         "required":["name","age"],"additionalProperties":false}
        """;

    [Fact]
    public void RecogniserAcceptsExactlyTheSchemasTexts()
    {
        var person = Compile(Person);
        foreach (var text in new[] { """{"name":"x","age":3}""", """{"name": "x", "age": -10, "tags": ["bc", "a"]}""", """{"name":"","age":0,"pet":null}""", """{"name":"\"","age":1,"pet":{"kind":"cat"}}""" })
        {
            Assert.True(Run(person, text) is { IsComplete: true, BytesToClose: 0 }, text);
            Assert.True(Valid(Person, text), text);
        }
        foreach (var text in new[] { """{"age":3,"name":"x"}""", """{"name":"x"}""", """{"name":"x","age":3.5}""", """{"name":"x","age":3,"tags":["a","a","a"]}""",
                     """{"name":"x","age":3,"other":1}""", """{"name":"x","age":01}""", """{"name":"x","age":3,"tags":["b"]}""", """{"name":"x","age":3,"pet":{}}""", """ {"name":"x","age":3}""" })
            Assert.False(Run(person, text)?.IsComplete == true, text);
        // Closing costs: the shortest completions, counted by hand.
        Assert.Equal("{\"name\":\"\",\"age\":0}".Length, person.MinBytes);
        Assert.Equal(",\"age\":0}".Length + 1, Run(person, "{\"name\":\"ab")!.BytesToClose);   // " then ,"age":0}
        Assert.Equal(1, Run(person, "{\"name\":\"\",\"age\":12")!.BytesToClose);              // }
        Assert.Equal("\"kind\":\"\"}}".Length, Run(person, "{\"name\":\"\",\"age\":1,\"pet\":{")!.BytesToClose);
        Assert.Equal("\"a\"]}".Length, Run(person, "{\"name\":\"\",\"age\":1,\"tags\":[\"a\",")!.BytesToClose);
        var pair = Compile("""{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":2}""");
        Assert.True(Run(pair, "[1.5e-3, -0]")!.IsComplete);
        Assert.Null(Run(pair, "[1,2,"));
        Assert.Equal("0]".Length, Run(pair, "[1,")!.BytesToClose);
    }

    [Theory]
    [InlineData("""{"type":"string","format":"date"}""", "format")]
    [InlineData("""{"type":"object","properties":{"when":{"type":"string","pattern":"x"}}}""", "properties.when.pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true}""", "additionalProperties")]
    [InlineData("""{"type":"array","items":{"$ref":"#/x"}}""", "items.$ref")]
    [InlineData("""{"type":"object","required":["b"],"properties":{"a":{"type":"string"}}}""", "required[0]")]
    [InlineData("""{"anyOf":[{"type":"string"},{"oneOf":[]}]}""", "anyOf[1].oneOf")]
    [InlineData("""{"description":"anything"}""", "type")]
    [InlineData("""{"type":"string","enum":["a",1]}""", "enum[1]")]
    [InlineData("""{"type":"string","items":{"type":"string"}}""", "items")]
    [InlineData("""{"type":"array","items":{"type":"string"},"minItems":3,"maxItems":1}""", "maxItems")]
    public void UnsupportedKeywordsAreRefusedByPath(string schema, string path)
    {
        var e = Assert.Throws<JsonSchemaException>(() => Compile(schema));
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void TwoHundredSeededSamplesUnderFiftyFuzzedSchemasAllValidate()
    {
        var tokenizer = fixture.Model.Tokenizer;
        var vocabulary = JsonVocabulary.For(tokenizer);
        var random = new Random(20);
        int samples = 0, stopped = 0, mutationsAccepted = 0;
        for (int s = 0; s < 50; s++)
        {
            JsonObject schemaJson;
            JsonSchemaNode schema;
            do (schemaJson, schema) = Pair(s % 2 == 0 ? RandomJsonSchemas.NextObject(random) : RandomJsonSchemas.Next(random));
            while (schema.MinBytes > 60);   // the test model's context is 128 positions
            string schemaText = schemaJson.ToJsonString();
            var validator = SchemaValidator.FromText(schemaText);
            for (int seed = 0; seed < 4; seed++)
            {
                int maxTokens = JsonConstraint.TokensNeeded(schema) + new[] { 0, 4, 16, 48 }[seed];
                var p = new SamplingParams
                {
                    MaxTokens = maxTokens, Temperature = 1.0, Seed = s * 10 + seed,
                    Constraint = () => new JsonConstraint(vocabulary, tokenizer.EosTokenIds, maxTokens, schema),
                };
                var sequence = fixture.Sampler.Sample(new SampleRequest([72, 101, 108, 108, 111], 1, p)).Sequences[0];
                var text = tokenizer.Decode(sequence.Tokens.Where(t => !tokenizer.EosTokenIds.Contains(t)).ToArray());
                using var document = JsonDocument.Parse(text);
                Assert.True(validator.Evaluate(document.RootElement).IsValid, $"schema {schemaText}, seed {seed}, max_tokens {maxTokens}: {text}");
                Assert.True(sequence.Tokens.Count <= maxTokens);
                samples++;
                if (sequence.StopReason == StopReason.Stop) stopped++;
                // Soundness on near misses: a one-byte mutation the recogniser calls whole must validate too.
                var bytes = Encoding.UTF8.GetBytes(text);
                if (bytes.Length == 0) continue;
                var mutated = (byte[])bytes.Clone();
                mutated[random.Next(mutated.Length)] = (byte)"{}[]\",:0-.e1tfn \\xa"[random.Next(19)];
                var mutatedText = Encoding.UTF8.GetString(mutated);
                if (Run(schema, mutatedText)?.IsComplete == true)
                {
                    mutationsAccepted++;
                    Assert.True(Valid(schemaText, mutatedText), $"schema {schemaText}: recogniser accepted invalid {mutatedText}");
                }
            }
        }
        Assert.Equal(200, samples);
        Assert.Equal(200, stopped);   // the text closes a token early, so the stop token always fits
        Assert.True(mutationsAccepted > 10, $"only {mutationsAccepted} mutations were whole texts: the soundness check checked little");
    }

    static (JsonObject, JsonSchemaNode) Pair(JsonObject json) => (json, JsonSchemaCompiler.Compile(JsonDocument.Parse(json.ToJsonString()).RootElement));
}
