using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SchemaValidator = Json.Schema.JsonSchema;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Sampling.Json;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>Schema-constrained decoding: the recogniser's verdicts and closing costs on known
/// texts, unsupported keywords refused by path, and 200 seeded samples of a random model under
/// 50 fuzzed schemas (OpenAI's subset and the keywords beyond it: string length, pattern, format,
/// bounds, oneOf, allOf, $ref) (budgets from exactly the shortest instance and its stop token up) that all validate against
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
        using (document) return SchemaValidator.FromText(schema).Evaluate(document.RootElement, new Json.Schema.EvaluationOptions { RequireFormatValidation = true }).IsValid;
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
    [InlineData("""{"type":"string","format":"hostname"}""", "format")]
    [InlineData("""{"type":"object","properties":{"when":{"type":"string","pattern":"(?i)x"}}}""", "properties.when.pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":1}""", "additionalProperties")]
    [InlineData("""{"type":"array","items":{"$ref":"#/x"}}""", "items.$ref")]
    [InlineData("""{"type":"object","required":["b"],"properties":{"a":{"type":"string"}}}""", "required[0]")]
    [InlineData("""{"anyOf":[{"type":"string"},{"oneOf":[]}]}""", "anyOf[1].oneOf")]
    [InlineData("""{"description":"anything"}""", "type")]
    [InlineData("""{"type":"string","enum":["a",1]}""", "enum[1]")]
    [InlineData("""{"type":"string","items":{"type":"string"}}""", "items")]
    [InlineData("""{"type":"array","items":{"type":"string"},"minItems":3,"maxItems":1}""", "maxItems")]
    [InlineData("""{"type":"integer","multipleOf":2}""", "multipleOf")]
    [InlineData("""{"oneOf":[{"type":"integer"},{"type":"number"}]}""", "oneOf")]
    [InlineData("""{"oneOf":[{"enum":[1,2]},{"const":2.0}]}""", "oneOf")]
    [InlineData("""{"type":"string","minLength":2,"pattern":"a+"}""", "pattern")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4.5}""", "maximum")]
    [InlineData("""{"type":"string","maxLength":1,"minLength":2}""", "maxLength")]
    [InlineData("""{"allOf":[{"type":"object","properties":{"a":{"type":"string"}}},{"type":"object","properties":{"a":{"type":"integer"}}}]}""", "allOf[1].properties.a")]
    [InlineData("""{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"type":"object","additionalProperties":false}]}""", "allOf")]
    [InlineData("""{"allOf":[{"type":"string"}]}""", "allOf[0].type")]
    [InlineData("""{"$defs":{"n":{"type":"object","properties":{"n":{"$ref":"#/$defs/n"}},"required":["n"]}},"$ref":"#/$defs/n"}""", "$ref")]
    [InlineData("""{"$ref":"#","type":"object"}""", "type")]
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
        var used = new HashSet<string>();
        for (int s = 0; s < 50; s++)
        {
            JsonObject schemaJson;
            JsonSchemaNode schema;
            do (schemaJson, schema) = Pair(s % 2 == 0 ? RandomJsonSchemas.NextObject(random) : RandomJsonSchemas.Next(random));
            while (schema.MinBytes > 60);   // the test model's context is 128 positions
            string schemaText = schemaJson.ToJsonString();
            Keywords(schemaJson, used);
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
                Assert.True(validator.Evaluate(document.RootElement, new Json.Schema.EvaluationOptions { RequireFormatValidation = true }).IsValid, $"schema {schemaText}, seed {seed}, max_tokens {maxTokens}: {text}");
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
        // The keywords beyond OpenAI's subset were all among the sampled schemas.
        foreach (var keyword in new[] { "minLength", "maxLength", "pattern", "format", "oneOf", "allOf", "$ref", "exclusiveMinimum" })
            Assert.Contains(keyword, used);
        Assert.True(used.Contains("minimum") || used.Contains("maximum"), "no bounded number was sampled");
        Assert.Equal(200, stopped);   // the text closes a token early, so the stop token always fits
        Assert.True(mutationsAccepted > 10, $"only {mutationsAccepted} mutations were whole texts: the soundness check checked little");
    }

    /// <summary>The keywords a schema uses (outside its shared $defs).</summary>
    static void Keywords(JsonNode? node, HashSet<string> used)
    {
        if (node is JsonArray array) foreach (var item in array) Keywords(item, used);
        if (node is not JsonObject schema) return;
        foreach (var (key, value) in schema)
        {
            if (key == "$defs") continue;
            used.Add(key);
            if (key == "properties" && value is JsonObject properties) foreach (var (_, p) in properties) Keywords(p, used);
            else if (key is not ("enum" or "const")) Keywords(value, used);
        }
    }

    static (JsonObject, JsonSchemaNode) Pair(JsonObject json) => (json, JsonSchemaCompiler.Compile(JsonDocument.Parse(json.ToJsonString()).RootElement));
}
