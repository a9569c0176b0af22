using System.Text.Json;
using System.Text.Json.Nodes;

namespace Whetstone.Engine.Sampling.Json;

// Objects, allOf (merged into one object schema) and oneOf's disjointness.
public static partial class JsonSchemaCompiler
{
    static readonly HashSet<string> ObjectKeywords = ["type", "properties", "required", "additionalProperties"];

    static JsonSchemaNode Object(Context context, JsonElement schema, string path, int depth)
    {
        // Extra properties are never generated, so additionalProperties false, true or a schema all hold.
        if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind is not (JsonValueKind.False or JsonValueKind.True or JsonValueKind.Object))
            throw new JsonSchemaException(At(path, "additionalProperties"), "must be false, true or a schema");
        var required = new HashSet<string>();
        if (schema.TryGetProperty("required", out var names))
        {
            if (names.ValueKind != JsonValueKind.Array) throw new JsonSchemaException(At(path, "required"), "must be an array of property names");
            int i = 0;
            foreach (var name in names.EnumerateArray())
            {
                if (name.ValueKind != JsonValueKind.String) throw new JsonSchemaException($"{At(path, "required")}[{i}]", "must be a property name");
                if (!schema.TryGetProperty("properties", out var declared) || !declared.TryGetProperty(name.GetString()!, out _))
                    throw new JsonSchemaException($"{At(path, "required")}[{i}]", $"'{name.GetString()}' is not in properties (only declared properties are generated)");
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
                var value = Node(context, p.Value, $"{At(path, "properties")}.{p.Name}", depth + 1);
                if (value is JsonNeverNode)
                {
                    if (required.Contains(p.Name)) return JsonNeverNode.Instance;   // recursion past the limit: this branch has no value
                    continue;
                }
                var key = JsonSerializer.SerializeToUtf8Bytes(p.Name);
                properties.Add(new(p.Name, [.. key, (byte)':'], value, required.Contains(p.Name)));
            }
        }
        return new JsonObjectNode(properties);
    }

    /// <summary>allOf of object schemas (the schema's own object keywords count as one more) as one
    /// object schema: properties united (one declared in two branches must be the same schema),
    /// required united, and a property another branch declares left out where a branch with
    /// additionalProperties false does not declare it (refused if it is required).</summary>
    static JsonElement MergeAllOf(Context context, JsonElement schema, string path)
    {
        string at = At(path, "allOf");
        var allOf = schema.GetProperty("allOf");
        if (allOf.ValueKind != JsonValueKind.Array || allOf.GetArrayLength() == 0) throw new JsonSchemaException(at, "must be a non-empty array of schemas");
        var branches = new List<(JsonElement Schema, string Path)> { (schema, path) };
        int index = 0;
        foreach (var branch in allOf.EnumerateArray())
        {
            string branchPath = $"{at}[{index++}]";
            var resolved = branch;
            if (branch.ValueKind == JsonValueKind.Object && branch.TryGetProperty("$ref", out var r) && r.ValueKind == JsonValueKind.String)
                resolved = Resolve(context.Root, r.GetString()!) ?? throw new JsonSchemaException(At(branchPath, "$ref"), $"'{r.GetString()}' is not # or a schema under #/$defs/ or #/definitions/");
            if (resolved.ValueKind != JsonValueKind.Object) throw new JsonSchemaException(branchPath, "must be a schema object");
            branches.Add((resolved, branchPath));
        }
        var properties = new JsonObject();
        var required = new List<string>();
        var closed = new List<HashSet<string>>();
        for (int b = 0; b < branches.Count; b++)
        {
            var (branch, branchPath) = branches[b];
            foreach (var keyword in branch.EnumerateObject())
            {
                if (Annotations.Contains(keyword.Name) || keyword.Name == "allOf" && b == 0) continue;
                if (!ObjectKeywords.Contains(keyword.Name))
                    throw new JsonSchemaException(At(branchPath, keyword.Name), "allOf merges object schemas only (type object, properties, required, additionalProperties)");
            }
            if (branch.TryGetProperty("type", out var type) && !(type.ValueKind == JsonValueKind.String && type.GetString() == "object"))
                throw new JsonSchemaException(At(branchPath, "type"), "must be 'object' in an allOf branch");
            var declared = new HashSet<string>();
            if (branch.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object)
                foreach (var p in props.EnumerateObject())
                {
                    declared.Add(p.Name);
                    if (properties[p.Name] is { } earlier && !JsonNode.DeepEquals(earlier, JsonNode.Parse(p.Value.GetRawText())))
                        throw new JsonSchemaException($"{At(branchPath, "properties")}.{p.Name}", "is declared differently in another allOf branch");
                    properties[p.Name] ??= JsonNode.Parse(p.Value.GetRawText());
                }
            if (branch.TryGetProperty("required", out var names) && names.ValueKind == JsonValueKind.Array)
                required.AddRange(names.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!));
            if (branch.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False) closed.Add(declared);
        }
        foreach (var name in properties.Select(p => p.Key).ToArray())
            if (closed.Any(c => !c.Contains(name)))
            {
                if (required.Contains(name)) throw new JsonSchemaException(at, $"requires '{name}', which a branch with additionalProperties false does not allow");
                properties.Remove(name);
            }
        var merged = new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = new JsonArray([.. required.Distinct().Select(n => (JsonNode)n)]) };
        return JsonSerializer.SerializeToElement(merged);
    }

    /// <summary>oneOf is anyOf when no value can match two branches; that is checked here on the
    /// compiled branches: different JSON types, disjoint const/enum values, or objects told apart by a
    /// property both require with disjoint const/enum values.</summary>
    static void CheckDisjoint(JsonSchemaNode[] branches, string path)
    {
        for (int i = 0; i < branches.Length; i++)
            for (int j = i + 1; j < branches.Length; j++)
                if (!Disjoint(branches[i], branches[j]))
                    throw new JsonSchemaException(path, $"branches {i} and {j} may both match one value; constrained decoding takes oneOf only when its branches are disjoint "
                        + "(different types, different const/enum values, or objects with a required const property that differs): use anyOf");
    }

    static bool Disjoint(JsonSchemaNode a, JsonSchemaNode b)
    {
        if (a is JsonNeverNode || b is JsonNeverNode) return true;
        if (a is JsonAnyOfNode any) return any.Options.All(o => Disjoint(o, b));
        if (b is JsonAnyOfNode other) return other.Options.All(o => Disjoint(a, o));
        if (!Kinds(a).Overlaps(Kinds(b))) return true;
        if (a is JsonLiteralNode la && b is JsonLiteralNode lb)
            return !la.Values.Any(x => lb.Values.Any(y => SameValue(x, y)));
        if (a is JsonObjectNode oa && b is JsonObjectNode ob)
            return oa.Properties.Any(p => p.Required && p.Value is JsonLiteralNode && ob.Properties.Any(q => q.Name == p.Name && q.Required && Disjoint(p.Value, q.Value)));
        return false;
    }

    static HashSet<char> Kinds(JsonSchemaNode node) => node switch
    {
        JsonStringNode => ['s'],
        JsonNumberNode or JsonIntegerRangeNode => ['n'],
        JsonObjectNode => ['o'],
        JsonArrayNode => ['a'],
        JsonLiteralNode l => [.. l.Values.Select(v => v[0] switch { (byte)'"' => 's', (byte)'t' or (byte)'f' => 'b', (byte)'n' => 'z', (byte)'{' => 'o', (byte)'[' => 'a', _ => 'n' })],
        JsonAnyOfNode any => [.. any.Options.SelectMany(Kinds)],
        _ => ['s', 'n', 'o', 'a', 'b', 'z'],
    };

    /// <summary>Whether two literal values may be equal in JSON Schema's sense (numbers by value; objects and arrays conservatively yes).</summary>
    static bool SameValue(byte[] x, byte[] y)
    {
        if (x[0] is (byte)'{' or (byte)'[' || y[0] is (byte)'{' or (byte)'[') return x[0] == y[0];
        using var dx = JsonDocument.Parse(x);
        using var dy = JsonDocument.Parse(y);
        if (dx.RootElement.ValueKind == JsonValueKind.Number && dy.RootElement.ValueKind == JsonValueKind.Number)
            return !dx.RootElement.TryGetDecimal(out var m) || !dy.RootElement.TryGetDecimal(out var n) || m == n;
        return x.AsSpan().SequenceEqual(y);
    }
}
