using System.Text;
using System.Text.Json;
using EvaluationOptions = Json.Schema.EvaluationOptions;
using SchemaValidator = Json.Schema.JsonSchema;
using Whetstone.Engine.Sampling.Json;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>The recogniser on the keywords beyond OpenAI's subset — string length, integer bounds,
/// pattern and format, $ref (recursive too), oneOf, allOf and additionalProperties schemas: each
/// accepted text is also valid by JsonSchema.Net (formats checked), each refused one is invalid or
/// outside the documented generation rule, and closing costs are the shortest completions by hand.</summary>
public class JsonSchemaKeywordTests
{
    static readonly EvaluationOptions Formats = new() { RequireFormatValidation = true };

    static JsonSchemaNode Compile(string schema) => JsonSchemaCompiler.Compile(JsonDocument.Parse(schema).RootElement);

    static SchemaPrefixState? Run(JsonSchemaNode schema, string text)
    {
        SchemaPrefixState? state = SchemaPrefixState.Begin(schema);
        foreach (var b in Encoding.UTF8.GetBytes(text)) if ((state = state!.Feed(b)) is null) return null;
        return state;
    }

    static bool Whole(JsonSchemaNode schema, string text) => Run(schema, text) is { IsComplete: true, BytesToClose: 0 };

    static void Check(string schema, string[] accepted, string[] refused)
    {
        var node = Compile(schema);
        var validator = SchemaValidator.FromText(schema);
        foreach (var text in accepted)
        {
            Assert.True(Whole(node, text), $"{schema} should accept {text}");
            using var document = JsonDocument.Parse(text);
            Assert.True(validator.Evaluate(document.RootElement, Formats).IsValid, $"{schema}: accepted {text} is invalid");
        }
        foreach (var text in refused) Assert.False(Run(node, text)?.IsComplete == true, $"{schema} should refuse {text}");
    }

    [Fact]
    public void StringLengthsCountPrintableAsciiCharacters()
    {
        const string schema = """{"type":"string","minLength":2,"maxLength":3}""";
        Check(schema, ["\"ab\"", "\"abc\"", "\"a\\\"\"", "\"\\\\\\/\""], ["\"a\"", "\"abcd\"", "\"\"", "\"\u00e9t\u00e9\"", "\"a\\nb\""]);
        var node = Compile(schema);
        Assert.Equal(4, node.MinBytes);
        Assert.Equal(2, Run(node, "\"a")!.BytesToClose);       // one more character and the quote
        Assert.Equal(2, Run(node, "\"a\\")!.BytesToClose);     // the escaped character and the quote
        Assert.Equal(1, Run(node, "\"abc")!.BytesToClose);
    }

    [Fact]
    public void IntegerBoundsAreKeptDigitByDigit()
    {
        Check("""{"type":"integer","minimum":-5,"maximum":120}""", ["-5", "0", "-0", "7", "120", "99"], ["121", "-6", "1000", "05", "1.5", "-"]);
        Check("""{"type":"integer","minimum":100,"maximum":250}""", ["100", "250", "199"], ["99", "251", "3", "26"]);
        Check("""{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10}""", ["1", "9"], ["0", "10", "-1"]);
        // A bounded number is generated as an integer in its bounds (documented rule): 1.5 is valid but never generated.
        Check("""{"type":"number","minimum":0.5,"maximum":2.5}""", ["1", "2"], ["0", "3", "1.5"]);
        var hundreds = Compile("""{"type":"integer","minimum":100,"maximum":250}""");
        Assert.Equal(3, hundreds.MinBytes);
        Assert.Equal(2, Run(hundreds, "2")!.BytesToClose);
        Assert.Null(Run(hundreds, "3"));
        Assert.Null(Run(hundreds, "26"));
        var negative = Compile("""{"type":"integer","minimum":-300,"maximum":-120}""");
        Assert.Equal(4, negative.MinBytes);
        Assert.Equal(3, Run(negative, "-")!.BytesToClose);
        Assert.Null(Run(negative, "-4"));
        Assert.Equal(1, Run(Compile("""{"type":"integer","minimum":-3}"""), "-")!.BytesToClose);
    }

    [Fact]
    public void PatternsAndFormatsAreMatchedWhole()
    {
        Check("""{"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"}""", ["\"AB-123\""], ["\"AB-12\"", "\"ab-123\"", "\"AB-1234\""]);
        Check("""{"type":"string","pattern":"(cat|dog)s?"}""", ["\"cat\"", "\"dogs\""], ["\"cow\"", "\"cats!\""]);
        Check("""{"type":"string","format":"date"}""", ["\"2024-02-28\"", "\"2024-12-31\"", "\"1999-04-30\""], ["\"2024-02-29\"", "\"2024-04-31\"", "\"2024-13-01\"", "\"24-01-01\""]);
        Check("""{"type":"string","format":"date-time"}""", ["\"2024-06-01T23:59:59Z\""], ["\"2024-06-01T24:00:00Z\"", "\"2024-06-01 10:00:00Z\""]);
        Check("""{"type":"string","format":"email"}""", ["\"ana.b@example.org\""], ["\"ana@\"", "\"@example.org\""]);
        Check("""{"type":"string","format":"uuid"}""", ["\"123e4567-e89b-12d3-a456-426614174000\""], ["\"123e4567\""]);
        Check("""{"type":"string","format":"ipv4"}""", ["\"192.168.0.1\"", "\"255.0.10.9\""], ["\"256.1.1.1\"", "\"1.2.3\""]);
        var code = Compile("""{"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"}""");
        Assert.Equal("\"AB-123\"".Length, code.MinBytes);
        Assert.Equal("-123\"".Length, Run(code, "\"AB")!.BytesToClose);
    }

    [Fact]
    public void RefsResolveAndRecursionStopsAtTheDepthLimit()
    {
        const string tree = """
            {"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v"],"additionalProperties":false}},
             "$ref":"#/$defs/node"}
            """;
        // Three levels of node (MaxRefDepth = 3): the third's kids can only be empty.
        Check(tree, ["""{"v":1}""", """{"v":1,"kids":[{"v":2,"kids":[{"v":3,"kids":[]}]},{"v":4}]}"""],
            ["""{"v":1,"kids":[{"v":2,"kids":[{"v":3,"kids":[{"v":4}]}]}]}""", """{"kids":[]}"""]);
        // Draft 7's definitions (JsonSchema.Net takes them under that dialect).
        Check("""{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"id":{"type":"string","maxLength":4}},"type":"object","properties":{"a":{"$ref":"#/definitions/id"}},"required":["a"]}""",
            ["""{"a":"abcd"}"""], ["""{"a":"abcde"}"""]);
    }

    [Fact]
    public void DisjointOneOfAllOfMergesAndAdditionalPropertiesSchemas()
    {
        Check("""
            {"oneOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind","x"],"additionalProperties":false},
                      {"type":"object","properties":{"kind":{"const":"b"},"y":{"type":"string"}},"required":["kind","y"],"additionalProperties":false}]}
            """, ["""{"kind":"a","x":1}""", """{"kind":"b","y":""}"""], ["""{"kind":"a","y":"s"}""", """{"kind":"c","x":1}"""]);
        Check("""{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}""", ["\"s\"", "3", "null"], ["1.5", "true"]);
        Check("""{"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"type":"object","properties":{"b":{"type":"string"}}}]}""",
            ["""{"a":1,"b":"x"}""", """{"a":1}"""], ["""{"b":"x"}"""]);
        // A closed branch leaves out the optional property it does not declare.
        Check("""{"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false},{"properties":{"b":{"type":"string"}}}]}""",
            ["""{"a":1}"""], ["""{"a":1,"b":"x"}"""]);
        Check("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}}""", ["""{"a":1}""", "{}"], ["""{"a":1,"z":"x"}"""]);
        Check("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true}""", ["""{"a":1}"""], ["""{"b":1}"""]);
    }
}
