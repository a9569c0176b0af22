using System.Text.Json.Nodes;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>Seeded random JSON schemas in the subset constrained decoding supports (OpenAI's
/// structured-outputs subset): every type, enum/const, objects with some required properties,
/// arrays with item-count bounds, anyOf and type lists, nested a few levels. Shared by the
/// engine's and the service's json_schema tests (linked into the service tests).</summary>
public static class RandomJsonSchemas
{
    static readonly string[] Names = ["id", "name", "a", "ab", "tags", "x", "value", "é"];

    public static JsonObject Next(Random random, int depth = 0)
    {
        int kind = random.Next(depth >= 3 ? 7 : 11);
        return kind switch
        {
            0 => new JsonObject { ["type"] = "string" },
            1 => new JsonObject { ["type"] = "number" },
            2 => new JsonObject { ["type"] = "integer", ["description"] = "a count" },
            3 => new JsonObject { ["type"] = "boolean" },
            4 => new JsonObject { ["type"] = "null" },
            5 => Enum(random),
            6 => new JsonObject { ["const"] = Scalar(random) },
            7 or 8 => Object(random, depth),
            9 => Array(random, depth),
            _ => random.Next(2) == 0
                ? new JsonObject { ["anyOf"] = new JsonArray(Enumerable.Range(0, random.Next(2, 4)).Select(_ => (JsonNode?)Next(random, depth + 1)).ToArray()) }
                : new JsonObject { ["type"] = new JsonArray(random.Next(2) == 0 ? "string" : "integer", "null") },
        };
    }

    /// <summary>An object schema at the top (what response_format json_schema mostly carries).</summary>
    public static JsonObject NextObject(Random random) => Object(random, 0);

    static JsonObject Object(Random random, int depth)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var name in Names.OrderBy(_ => random.Next()).Take(random.Next(0, 5)))
        {
            properties[name] = Next(random, depth + 1);
            if (random.Next(3) > 0) required.Add(name);
        }
        return new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required, ["additionalProperties"] = false };
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
