using System.Text.Json.Nodes;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>Seeded random JSON schemas in the subset constrained decoding supports: every type,
/// enum/const, objects with some required properties and additionalProperties false/true/a schema,
/// arrays with item-count bounds, anyOf and type lists, and beyond OpenAI's subset string
/// minLength/maxLength, pattern and format, bounded integers and numbers, disjoint oneOf, allOf of
/// objects, and $ref into the root's $defs (a recursive tree among them), nested a few levels.
/// Shared by the engine's and the service's json_schema tests (linked into the service tests).</summary>
public static class RandomJsonSchemas
{
    static readonly string[] Names = ["id", "name", "a", "ab", "tags", "x", "value", "é"];
    static readonly string[] Patterns = ["^[a-z]{1,4}$", "(yes|no)", "[0-9]{2}-[A-Z]", "^id_\\d+$", "a*b?c", "^[^ ]{2}$"];
    static readonly string[] FormatNames = ["date", "time", "date-time", "email", "uuid", "ipv4"];

    /// <summary>Definitions every generated root carries, for $ref: a scalar and a recursive tree.</summary>
    static JsonObject Definitions() => new()
    {
        ["code"] = new JsonObject { ["type"] = "string", ["pattern"] = "^[A-Z]{3}$" },
        ["tree"] = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["v"] = new JsonObject { ["type"] = "integer", ["minimum"] = 0, ["maximum"] = 9 },
                ["kids"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["$ref"] = "#/$defs/tree" }, ["maxItems"] = 2 },
            },
            ["required"] = new JsonArray("v"),
            ["additionalProperties"] = false,
        },
    };

    public static JsonObject Next(Random random) => WithDefinitions(Next(random, 0));

    /// <summary>An object schema at the top (what response_format json_schema mostly carries).</summary>
    public static JsonObject NextObject(Random random) => WithDefinitions(Object(random, 0));

    static JsonObject WithDefinitions(JsonObject schema)
    {
        schema["$defs"] = Definitions();
        return schema;
    }

    static JsonObject Next(Random random, int depth)
    {
        int kind = random.Next(depth >= 3 ? 10 : 18);
        return kind switch
        {
            0 => new JsonObject { ["type"] = "string" },
            1 => new JsonObject { ["type"] = "number" },
            2 => new JsonObject { ["type"] = "integer", ["description"] = "a count" },
            3 => new JsonObject { ["type"] = "boolean" },
            4 => new JsonObject { ["type"] = "null" },
            5 => Enum(random),
            6 => new JsonObject { ["const"] = Scalar(random) },
            7 => BoundedString(random),
            8 => BoundedNumber(random),
            9 => random.Next(2) == 0
                ? new JsonObject { ["type"] = "string", ["pattern"] = Patterns[random.Next(Patterns.Length)] }
                : new JsonObject { ["type"] = "string", ["format"] = FormatNames[random.Next(FormatNames.Length)] },
            10 or 11 => Object(random, depth),
            12 => Array(random, depth),
            13 => random.Next(2) == 0
                ? new JsonObject { ["anyOf"] = new JsonArray(Enumerable.Range(0, random.Next(2, 4)).Select(_ => (JsonNode?)Next(random, depth + 1)).ToArray()) }
                : new JsonObject { ["type"] = new JsonArray(random.Next(2) == 0 ? "string" : "integer", "null") },
            14 => OneOf(random),
            15 => AllOf(random, depth),
            16 => new JsonObject { ["$ref"] = random.Next(2) == 0 ? "#/$defs/code" : "#/$defs/tree" },
            _ => Object(random, depth),
        };
    }

    static JsonObject Object(Random random, int depth)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var name in Names.OrderBy(_ => random.Next()).Take(random.Next(0, 5)))
        {
            properties[name] = Next(random, depth + 1);
            if (random.Next(3) > 0) required.Add(name);
        }
        JsonNode additional = random.Next(4) switch { 0 => true, 1 => new JsonObject { ["type"] = "string" }, _ => false };
        return new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required, ["additionalProperties"] = additional };
    }

    static JsonObject Array(Random random, int depth)
    {
        var schema = new JsonObject { ["type"] = "array", ["items"] = Next(random, depth + 1) };
        if (random.Next(2) == 0)
        {
            int min = random.Next(0, 3);
            schema["minItems"] = min;
            schema["maxItems"] = min + random.Next(0, 3);
        }
        return schema;
    }

    static JsonObject BoundedString(Random random)
    {
        int min = random.Next(0, 4);
        var schema = new JsonObject { ["type"] = "string", ["minLength"] = min };
        if (random.Next(3) > 0) schema["maxLength"] = min + random.Next(0, 5);
        return schema;
    }

    static JsonObject BoundedNumber(Random random)
    {
        var schema = new JsonObject { ["type"] = random.Next(3) == 0 ? "number" : "integer" };
        int low = random.Next(-300, 300);
        switch (random.Next(4))
        {
            case 0: schema["minimum"] = low; schema["maximum"] = low + random.Next(0, 500); break;
            case 1: schema["exclusiveMinimum"] = low - 0.5; schema["exclusiveMaximum"] = low + 1 + random.Next(0, 40); break;
            case 2: schema["minimum"] = low; break;
            default: schema["maximum"] = low; break;
        }
        return schema;
    }

    /// <summary>oneOf whose branches have different types (so any value matches exactly one).</summary>
    static JsonObject OneOf(Random random)
    {
        JsonObject[] pool =
        [
            new() { ["type"] = "string", ["maxLength"] = 3 },
            new() { ["type"] = "integer", ["minimum"] = 0 },
            new() { ["type"] = "boolean" },
            new() { ["type"] = "null" },
            new() { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "integer" }, ["maxItems"] = 2 },
        ];
        return new JsonObject { ["oneOf"] = new JsonArray(pool.OrderBy(_ => random.Next()).Take(random.Next(2, 4)).Select(b => (JsonNode?)b).ToArray()) };
    }

    /// <summary>allOf of an open object and one more object with properties of other names.</summary>
    static JsonObject AllOf(Random random, int depth)
    {
        var first = Object(random, depth + 1);
        first["additionalProperties"] = true;
        var second = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["p"] = Next(random, depth + 2), ["q"] = new JsonObject { ["type"] = "boolean" } },
            ["required"] = random.Next(2) == 0 ? new JsonArray("p") : new JsonArray(),
        };
        return new JsonObject { ["allOf"] = new JsonArray(first, second) };
    }

    static JsonObject Enum(Random random)
    {
        var values = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Scalar(random)).DistinctBy(v => v?.ToJsonString()).ToArray();
        return new JsonObject { ["enum"] = new JsonArray(values) };
    }

    static JsonNode? Scalar(Random random) => random.Next(6) switch
    {
        0 => JsonValue.Create(random.Next(-50, 50)),
        1 => JsonValue.Create(Math.Round(random.NextDouble() * 10, 2)),
        2 => JsonValue.Create(new[] { "red", "green", "re", "ünïcode", "a\"q" }[random.Next(5)]),
        3 => JsonValue.Create(random.Next(2) == 0),
        4 => null,
        _ => new JsonArray(1, "two"),
    };
}
