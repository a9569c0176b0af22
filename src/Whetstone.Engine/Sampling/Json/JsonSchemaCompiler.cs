using System.Text;
using System.Text.Json;

namespace Whetstone.Engine.Sampling.Json;

/// <summary>A schema keyword or value that constrained decoding cannot honour, at
/// <see cref="Path"/> (dotted, relative to the schema's root, e.g. <c>properties.when.format</c>).</summary>
public sealed class JsonSchemaException(string path, string message) : Exception(message)
{
    public string Path { get; } = path;
}

/// <summary>Compiles a JSON Schema subset into <see cref="JsonSchemaNode"/>s for constrained decoding:
/// <list type="bullet">
/// <item>type (one or a list), enum, const;</item>
/// <item>objects: properties (generated in declared order), required, additionalProperties false,
/// true or a schema — extra properties are never generated, so all three hold; allOf of object
/// schemas, merged (<see cref="JsonSchemaCompiler"/>.Objects);</item>
/// <item>arrays: items, minItems, maxItems;</item>
/// <item>strings: minLength/maxLength (then printable ASCII), pattern (a regex subset,
/// <see cref="JsonStringPattern"/>) and format date, time, date-time, email, uuid, ipv4;</item>
/// <item>integers: minimum/maximum and their exclusive forms, digit by digit; a bounded number is
/// generated as an integer in the bounds;</item>
/// <item>anyOf; oneOf only where its branches are disjoint (types, const/enum values, or a required
/// const discriminator property), since then any branch's value matches exactly one;</item>
/// <item>$ref to #, #/$defs/… or #/definitions/…, recursion to <see cref="MaxRefDepth"/> expansions
/// (past it, the branches that would recurse further are left out).</item>
/// </list>
/// Annotations are ignored. Any other keyword is refused with its path rather than ignored, since
/// ignoring it would let outputs break the schema.</summary>
public static partial class JsonSchemaCompiler
{
    public const int MaxDepth = 32;
    /// <summary>How often one $ref may be expanded inside itself.</summary>
    public const int MaxRefDepth = 3;

    static readonly HashSet<string> Annotations = ["title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions"];
    static readonly HashSet<string> Known = ["type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

    sealed record Context(JsonElement Root, Dictionary<string, int> Expanding);

    public static JsonSchemaNode Compile(JsonElement schema)
    {
        var node = Node(new Context(schema, []), schema, "", 0);
        return node is JsonNeverNode ? throw new JsonSchemaException("$ref", $"recursion never ends within {MaxRefDepth} expansions") : node;
    }

    static string At(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    static JsonSchemaNode Node(Context context, JsonElement schema, string path, int depth)
    {
        string here = path.Length == 0 ? "(the schema)" : path;
        if (depth > MaxDepth) throw new JsonSchemaException(path, $"nests deeper than {MaxDepth} levels");
        if (schema.ValueKind != JsonValueKind.Object) throw new JsonSchemaException(path, $"{here} must be a schema object (boolean schemas are not supported)");
        foreach (var keyword in schema.EnumerateObject())
            if (!Known.Contains(keyword.Name) && !Annotations.Contains(keyword.Name))
                throw new JsonSchemaException(At(path, keyword.Name), $"keyword '{keyword.Name}' is not supported in constrained decoding (supported: {string.Join(", ", Known)})");

        if (schema.TryGetProperty("$ref", out var reference)) return Reference(context, schema, reference, path, depth);
        if (schema.TryGetProperty("allOf", out _)) return Node(context, MergeAllOf(context, schema, path), path, depth + 1);
        string[]? types = schema.TryGetProperty("type", out var type) ? Types(type, At(path, "type")) : null;
        if (schema.TryGetProperty("enum", out var values)) return Literal(values, types, At(path, "enum"));
        if (schema.TryGetProperty("const", out var constant)) return Literal(JsonSerializer.SerializeToElement(new[] { constant }), types, At(path, "const"));
        foreach (var combinator in new[] { "anyOf", "oneOf" })
        {
            if (!schema.TryGetProperty(combinator, out var options)) continue;
            string at = At(path, combinator);
            if (types is not null) throw new JsonSchemaException(at, "cannot be combined with 'type' (put the type in each option)");
            if (options.ValueKind != JsonValueKind.Array || options.GetArrayLength() == 0) throw new JsonSchemaException(at, "must be a non-empty array of schemas");
            var nodes = options.EnumerateArray().Select((option, i) => Node(context, option, $"{at}[{i}]", depth + 1)).ToArray();
            if (combinator == "oneOf") CheckDisjoint(nodes, at);
            return AnyOf(nodes.Where(n => n is not JsonNeverNode).ToArray());
        }
        if (types is null) throw new JsonSchemaException(At(path, "type"), $"is required at {here} (or enum, const, anyOf, oneOf, allOf, $ref): schemas that allow any value are not supported");
        CheckKeywordsFit(schema, types, path);
        return AnyOf(types.Select(t => Typed(context, t, schema, path, depth)).ToArray());
    }

    static JsonSchemaNode AnyOf(JsonSchemaNode[] nodes) => nodes.Length switch
    {
        0 => JsonNeverNode.Instance,
        1 => nodes[0],
        _ => new JsonAnyOfNode(nodes),
    };

    /// <summary>$ref to the root or to a definition, inlined; a ref inside itself more than <see cref="MaxRefDepth"/> times is never.</summary>
    static JsonSchemaNode Reference(Context context, JsonElement schema, JsonElement reference, string path, int depth)
    {
        string at = At(path, "$ref");
        foreach (var keyword in schema.EnumerateObject())
            if (keyword.Name != "$ref" && !Annotations.Contains(keyword.Name))
                throw new JsonSchemaException(At(path, keyword.Name), "cannot stand beside $ref (wrap them in allOf)");
        string target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : throw new JsonSchemaException(at, "must be a string");
        var resolved = Resolve(context.Root, target) ?? throw new JsonSchemaException(at, $"'{target}' is not # or a schema under #/$defs/ or #/definitions/ of this schema");
        int expansions = context.Expanding.GetValueOrDefault(target);
        if (expansions >= MaxRefDepth) return JsonNeverNode.Instance;
        context.Expanding[target] = expansions + 1;
        try { return Node(context, resolved, at, depth + 1); }
        finally { context.Expanding[target] = expansions; }
    }

    static JsonElement? Resolve(JsonElement root, string target)
    {
        if (target == "#") return root;
        foreach (var prefix in new[] { "#/$defs/", "#/definitions/" })
        {
            if (!target.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string name = target[prefix.Length..].Replace("~1", "/").Replace("~0", "~");
            return root.TryGetProperty(prefix[2..^1], out var defs) && defs.ValueKind == JsonValueKind.Object && defs.TryGetProperty(name, out var found) ? found : null;
        }
        return null;
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

    static JsonSchemaNode Typed(Context context, string type, JsonElement schema, string path, int depth) => type switch
    {
        "string" => String(schema, path),
        "number" => Number(schema, path, integer: false),
        "integer" => Number(schema, path, integer: true),
        "boolean" => new JsonLiteralNode([Encoding.UTF8.GetBytes("true"), Encoding.UTF8.GetBytes("false")]),
        "null" => new JsonLiteralNode([Encoding.UTF8.GetBytes("null")]),
        "object" => Object(context, schema, path, depth),
        "array" => Array(context, schema, path, depth),
        _ => throw new InvalidOperationException(type),
    };

    // Keywords of a type the schema does not allow are refused: they would be silently meaningless.
    static readonly (string Keyword, string[] Owners)[] Owners =
    [
        ("properties", ["object"]), ("required", ["object"]), ("additionalProperties", ["object"]), ("items", ["array"]), ("minItems", ["array"]), ("maxItems", ["array"]),
        ("minLength", ["string"]), ("maxLength", ["string"]), ("pattern", ["string"]), ("format", ["string"]),
        ("minimum", ["number", "integer"]), ("maximum", ["number", "integer"]), ("exclusiveMinimum", ["number", "integer"]), ("exclusiveMaximum", ["number", "integer"]),
    ];

    static void CheckKeywordsFit(JsonElement schema, string[] types, string path)
    {
        foreach (var (keyword, owners) in Owners)
            if (schema.TryGetProperty(keyword, out _) && !types.Any(owners.Contains))
                throw new JsonSchemaException(At(path, keyword), $"applies to type '{string.Join("' or '", owners)}', which this schema's type does not allow");
    }

    static JsonArrayNode Array(Context context, JsonElement schema, string path, int depth)
    {
        if (!schema.TryGetProperty("items", out var items)) throw new JsonSchemaException(At(path, "items"), "is required for arrays (arrays of any value are not supported)");
        int min = Count(schema, "minItems", path) ?? 0;
        int? max = Count(schema, "maxItems", path);
        if (max < min) throw new JsonSchemaException(At(path, "maxItems"), $"= {max} is below minItems = {min}");
        var item = Node(context, items, At(path, "items"), depth + 1);
        if (item is JsonNeverNode) return min > 0 ? throw new JsonSchemaException(At(path, "items"), $"recursion never ends within {MaxRefDepth} expansions") : new JsonArrayNode(item, 0, 0);
        return new JsonArrayNode(item, min, max);
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
