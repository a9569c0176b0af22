using System.Text;
using System.Text.Json;

namespace Whetstone.Engine.Sampling.Json;

/// <summary>A schema keyword or value that constrained decoding cannot honour, at
/// <see cref="Path"/> (dotted, relative to the schema's root, e.g. <c>properties.when.format</c>).</summary>
public sealed class JsonSchemaException(string path, string message) : Exception(message)
{
    public string Path { get; } = path;
}

/// <summary>Compiles the JSON Schema subset that OpenAI's structured outputs use into
/// <see cref="JsonSchemaNode"/>s: type (one or a list), properties/required/additionalProperties
/// false, items/minItems/maxItems, enum, const, anyOf; annotations are ignored. Any other keyword
/// is refused with its path rather than ignored, since ignoring it would let outputs break the
/// schema. Properties come out in declared order.</summary>
public static class JsonSchemaCompiler
{
    public const int MaxDepth = 32;

    static readonly HashSet<string> Annotations = ["title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly"];
    static readonly HashSet<string> Known = ["type", "enum", "const", "anyOf", "properties", "required", "additionalProperties", "items", "minItems", "maxItems"];

    public static JsonSchemaNode Compile(JsonElement schema) => Node(schema, "", 0);

    static string At(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    static JsonSchemaNode Node(JsonElement schema, string path, int depth)
    {
        string here = path.Length == 0 ? "(the schema)" : path;
        if (depth > MaxDepth) throw new JsonSchemaException(path, $"nests deeper than {MaxDepth} levels");
        if (schema.ValueKind != JsonValueKind.Object) throw new JsonSchemaException(path, $"{here} must be a schema object (boolean schemas are not supported)");
        foreach (var keyword in schema.EnumerateObject())
            if (!Known.Contains(keyword.Name) && !Annotations.Contains(keyword.Name))
                throw new JsonSchemaException(At(path, keyword.Name), $"keyword '{keyword.Name}' is not supported in constrained decoding (supported: {string.Join(", ", Known)})");

        string[]? types = schema.TryGetProperty("type", out var type) ? Types(type, At(path, "type")) : null;
        if (schema.TryGetProperty("enum", out var values)) return Literal(values, types, At(path, "enum"));
        if (schema.TryGetProperty("const", out var constant)) return Literal(JsonSerializer.SerializeToElement(new[] { constant }), types, At(path, "const"));
        if (schema.TryGetProperty("anyOf", out var anyOf))
        {
            if (types is not null) throw new JsonSchemaException(At(path, "anyOf"), "cannot be combined with 'type' (put the type in each option)");
            if (anyOf.ValueKind != JsonValueKind.Array || anyOf.GetArrayLength() == 0) throw new JsonSchemaException(At(path, "anyOf"), "must be a non-empty array of schemas");
            return new JsonAnyOfNode(anyOf.EnumerateArray().Select((option, i) => Node(option, $"{At(path, "anyOf")}[{i}]", depth + 1)).ToArray());
        }
        if (types is null) throw new JsonSchemaException(At(path, "type"), $"is required at {here} (or enum, const, anyOf): schemas that allow any value are not supported");
        CheckKeywordsFit(schema, types, path);
        var nodes = types.Select(t => Typed(t, schema, path, depth)).ToArray();
        return nodes.Length == 1 ? nodes[0] : new JsonAnyOfNode(nodes);
    }

    static string[] Types(JsonElement type, string path)
    {
        string[] names = type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array when type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String) =>
                type.EnumerateArray().Select(t => t.GetString()!).Distinct().ToArray(),
            _ => throw new JsonSchemaException(path, "must be a type name or a non-empty array of type names"),
        };
        foreach (var name in names)
            if (name is not ("string" or "number" or "integer" or "boolean" or "null" or "object" or "array"))
                throw new JsonSchemaException(path, $"'{name}' must be string, number, integer, boolean, null, object or array");
        return names;
    }

    static JsonSchemaNode Typed(string type, JsonElement schema, string path, int depth) => type switch
    {
        "string" => new JsonStringNode(),
        "number" => new JsonNumberNode(integer: false),
        "integer" => new JsonNumberNode(integer: true),
        "boolean" => new JsonLiteralNode([Encoding.UTF8.GetBytes("true"), Encoding.UTF8.GetBytes("false")]),
        "null" => new JsonLiteralNode([Encoding.UTF8.GetBytes("null")]),
        "object" => Object(schema, path, depth),
        "array" => Array(schema, path, depth),
        _ => throw new InvalidOperationException(type),
    };

    // Keywords of a type the schema does not allow are refused: they would be silently meaningless.
    static void CheckKeywordsFit(JsonElement schema, string[] types, string path)
    {
        foreach (var (keyword, owner) in new[] { ("properties", "object"), ("required", "object"), ("additionalProperties", "object"), ("items", "array"), ("minItems", "array"), ("maxItems", "array") })
            if (schema.TryGetProperty(keyword, out _) && !types.Contains(owner))
                throw new JsonSchemaException(At(path, keyword), $"applies to type '{owner}', which this schema's type does not allow");
    }

    static JsonObjectNode Object(JsonElement schema, string path, int depth)
    {
        if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind != JsonValueKind.False)
            throw new JsonSchemaException(At(path, "additionalProperties"), "must be false (properties beyond 'properties' are not generated)");
        var required = new HashSet<string>();
        if (schema.TryGetProperty("required", out var names))
        {
            if (names.ValueKind != JsonValueKind.Array) throw new JsonSchemaException(At(path, "required"), "must be an array of property names");
            int i = 0;
            foreach (var name in names.EnumerateArray())
            {
                if (name.ValueKind != JsonValueKind.String) throw new JsonSchemaException($"{At(path, "required")}[{i}]", "must be a property name");
                if (!schema.TryGetProperty("properties", out var declared) || !declared.TryGetProperty(name.GetString()!, out _))
                    throw new JsonSchemaException($"{At(path, "required")}[{i}]", $"'{name.GetString()}' is not in properties");
                required.Add(name.GetString()!);
                i++;
            }
        }
        var properties = new List<JsonObjectNode.Property>();
        if (schema.TryGetProperty("properties", out var props))
        {
            if (props.ValueKind != JsonValueKind.Object) throw new JsonSchemaException(At(path, "properties"), "must be an object of schemas");
            foreach (var p in props.EnumerateObject())
            {
                var key = JsonSerializer.SerializeToUtf8Bytes(p.Name);
                properties.Add(new(p.Name, [.. key, (byte)':'], Node(p.Value, $"{At(path, "properties")}.{p.Name}", depth + 1), required.Contains(p.Name)));
            }
        }
        return new JsonObjectNode(properties);
    }

    static JsonArrayNode Array(JsonElement schema, string path, int depth)
    {
        if (!schema.TryGetProperty("items", out var items)) throw new JsonSchemaException(At(path, "items"), "is required for arrays (arrays of any value are not supported)");
        int min = Count(schema, "minItems", path) ?? 0;
        int? max = Count(schema, "maxItems", path);
        if (max < min) throw new JsonSchemaException(At(path, "maxItems"), $"= {max} is below minItems = {min}");
        return new JsonArrayNode(Node(items, At(path, "items"), depth + 1), min, max);
    }

    static int? Count(JsonElement schema, string keyword, string path) =>
        !schema.TryGetProperty(keyword, out var value) ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n is >= 0 and <= 10_000 ? n
        : throw new JsonSchemaException(At(path, keyword), "must be an integer between 0 and 10000");

    static JsonLiteralNode Literal(JsonElement values, string[]? types, string path)
    {
        if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0) throw new JsonSchemaException(path, "must be a non-empty array");
        var bytes = new List<byte[]>();
        int i = 0;
        foreach (var value in values.EnumerateArray())
        {
            if (types is not null && !types.Any(t => Matches(value, t)))
                throw new JsonSchemaException(path.EndsWith("const") ? path : $"{path}[{i}]", $"{value.GetRawText()} is not of type {string.Join(" or ", types)}");
            bytes.Add(JsonSerializer.SerializeToUtf8Bytes(value));
            i++;
        }
        return new JsonLiteralNode(bytes);
    }

    static bool Matches(JsonElement value, string type) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && d == decimal.Truncate(d),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        _ => false,
    };
}
