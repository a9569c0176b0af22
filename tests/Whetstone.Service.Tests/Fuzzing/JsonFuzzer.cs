using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.Fuzzing;

/// <summary>Request bodies that are nearly right and then wrong: a plausible body is built from
/// the body type's JSON schema (the protocol's own serializer settings), then one to three
/// mutations are applied — a wrong type, a missing or extra field, a huge array, deep nesting,
/// invalid UTF-8, NaN or ±Infinity, negative and overflowing numbers, a huge string — or the whole
/// body is replaced by something that is not an object. Deterministic for a seed.</summary>
internal sealed class JsonFuzzer(Random random, IReadOnlyList<int> realTokens, IReadOnlyList<string> realStrings)
{
    static readonly JsonSerializerOptions SchemaOptions = new(ProtocolJson.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
    // Replaced after serialization: what JsonNode cannot hold (nesting past the writer's depth, bad bytes, raw NaN).
    const string DeepMark = "\u0001deep\u0001", BadUtf8Mark = "\u0001utf8\u0001", RawNanMark = "\u0001nan\u0001";
    readonly Dictionary<Type, JsonNode> _schemas = [];

    /// <summary>What the mutations were, for the report of a failing case.</summary>
    public List<string> Applied { get; } = [];

    public byte[] Body(Type? type)
    {
        Applied.Clear();
        if (random.NextDouble() < 0.08) return WholeBody();
        JsonNode? body = type is null ? new JsonObject { ["x"] = 1 } : Plausible(Schema(type), 0);
        body ??= new JsonObject();
        int mutations = random.Next(1, 4);
        for (int i = 0; i < mutations && body is not null; i++) body = Mutate(body);
        var text = body?.ToJsonString() ?? "null";
        return Encode(text);
    }

    JsonNode Schema(Type type)
    {
        if (!_schemas.TryGetValue(type, out var schema))
            _schemas[type] = schema = JsonSchemaExporter.GetJsonSchemaAsNode(SchemaOptions, type);
        return schema;
    }

    byte[] WholeBody()
    {
        string[] bodies = ["", "null", "[]", "123", "\"text\"", "{", "{\"a\":", "{}", "{\"a\":1,}", "[[[[", "NaN", "\uFEFF{}", "{\"a\":1}{\"b\":2}"];
        var pick = bodies[random.Next(bodies.Length)];
        Applied.Add($"whole body {JsonSerializer.Serialize(pick)}");
        return Encoding.UTF8.GetBytes(pick);
    }

    // A value the schema allows, with real token ids and ids where a list of ints or a string goes.
    JsonNode? Plausible(JsonNode? schema, int depth)
    {
        if (schema is not JsonObject s || depth > 6) return null;
        if (s["enum"] is JsonArray values && values.Count > 0) return values[random.Next(values.Count)]?.DeepClone();
        if (s["anyOf"] is JsonArray any && any.Count > 0) return Plausible(any[random.Next(any.Count)], depth + 1);
        var types = s["type"] switch
        {
            JsonValue v => [v.GetValue<string>()],
            JsonArray a => a.Select(t => t!.GetValue<string>()).Where(t => t != "null").ToArray(),
            _ => s["properties"] is not null ? ["object"] : Array.Empty<string>(),
        };
        if (types.Length == 0) return JsonValue.Create(1);
        switch (types[random.Next(types.Length)])
        {
            case "object":
                var o = new JsonObject();
                if (s["properties"] is JsonObject properties)
                    foreach (var (name, property) in properties)
                        if (IsRequired(s, name) || random.NextDouble() < 0.6) o[name] = Plausible(property, depth + 1);
                return o;
            case "array":
                var array = new JsonArray();
                int n = random.Next(1, 5);
                bool ints = s["items"] is JsonObject item && Types(item).Contains("integer");
                for (int i = 0; i < n; i++) array.Add(ints ? JsonValue.Create(realTokens[random.Next(realTokens.Count)]) : Plausible(s["items"], depth + 1));
                return array;
            case "integer": return JsonValue.Create(random.Next(0, 8));
            case "number": return JsonValue.Create(Math.Round(random.NextDouble(), 3));
            case "boolean": return JsonValue.Create(random.Next(2) == 0);
            case "string": return JsonValue.Create(realStrings[random.Next(realStrings.Count)]);
            default: return null;
        }
    }

    static bool IsRequired(JsonObject schema, string name) => schema["required"] is JsonArray r && r.Any(x => x?.GetValue<string>() == name);

    static string[] Types(JsonObject s) => s["type"] switch
    {
        JsonValue v => [v.GetValue<string>()],
        JsonArray a => a.Select(t => t!.GetValue<string>()).ToArray(),
        _ => [],
    };

    JsonNode? Mutate(JsonNode root)
    {
        var slots = Slots(root, "$").ToList();
        var (parent, key, path) = slots.Count == 0 ? (null, null, "$") : slots[random.Next(slots.Count)];
        int kind = random.Next(12);
        if (kind == 0 && parent is JsonObject removeFrom) { removeFrom.Remove((string)key!); Applied.Add($"removed {path}"); return root; }
        if (kind == 1 && (parent ?? root) is JsonObject extendThis)
        {
            var target = parent is JsonObject p && p[(string)key!] is JsonObject inner ? inner : extendThis;
            target["zz_extra_" + random.Next(100)] = Mutant(11);
            Applied.Add($"extra field near {path}");
            return root;
        }
        var value = Mutant(kind);
        Applied.Add($"{path} = {Describe(value)}");
        if (parent is null) return value;
        if (parent is JsonObject obj) obj[(string)key!] = value;
        else ((JsonArray)parent)[(int)key!] = value;
        return root;
    }

    static string Describe(JsonNode? value)
    {
        var text = value?.ToJsonString() ?? "null";
        return text.Length > 80 ? text[..80] + $"…({text.Length} chars)" : text;
    }

    JsonNode? Mutant(int kind) => kind switch
    {
        2 => random.Next(4) switch { 0 => JsonValue.Create("not a number"), 1 => JsonValue.Create(true), 2 => new JsonObject(), _ => new JsonArray() },
        3 => JsonValue.Create(HugeArray()),
        4 => JsonValue.Create(DeepMark),
        5 => JsonValue.Create(BadUtf8Mark),
        6 => JsonValue.Create(new[] { "NaN", "Infinity", "-Infinity" }[random.Next(3)]),
        7 => JsonValue.Create(RawNanMark),
        8 => random.Next(8) switch
        {
            0 => JsonValue.Create(-1), 1 => JsonValue.Create(-2147483649L), 2 => JsonValue.Create(2147483648L),
            3 => JsonValue.Create(long.MaxValue), 4 => JsonValue.Create(1e308), 5 => JsonValue.Create(-1e308),
            6 => JsonValue.Create(0.5), _ => JsonValue.Create(0),
        },
        9 => JsonValue.Create(new string('x', random.Next(2) == 0 ? 70_000 : 2_000_000)),
        10 => null,
        _ => random.Next(3) switch { 0 => JsonValue.Create(-7), 1 => JsonValue.Create("zz"), _ => new JsonArray(-1, 1e30, "a") },
    };

    int[] HugeArray() => Enumerable.Range(0, random.Next(2) == 0 ? 100_000 : 1_000_000).Select(i => realTokens[i % realTokens.Count]).ToArray();

    static IEnumerable<(JsonNode? Parent, object? Key, string Path)> Slots(JsonNode node, string path)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o.ToList())
                {
                    yield return (o, name, $"{path}.{name}");
                    if (child is not null) foreach (var s in Slots(child, $"{path}.{name}")) yield return s;
                }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    yield return (a, i, $"{path}[{i}]");
                    if (a[i] is { } child) foreach (var s in Slots(child, $"{path}[{i}]")) yield return s;
                }
                break;
        }
    }

    byte[] Encode(string text)
    {
        var deep = new string('[', 5_000) + new string(']', 5_000);
        text = text.Replace(Quoted(DeepMark), deep).Replace(Quoted(RawNanMark), random.Next(2) == 0 ? "NaN" : "-Infinity");
        var bytes = Encoding.UTF8.GetBytes(text);
        var mark = Encoding.UTF8.GetBytes(Quoted(BadUtf8Mark)[1..^1]);
        byte[][] bad = [[0xFF, 0xFE], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]];
        return Replace(bytes, mark, bad[random.Next(bad.Length)]);
    }

    static string Quoted(string mark) => JsonSerializer.Serialize(mark);   // as JsonNode writes it ("\u0001…")

    static byte[] Replace(byte[] bytes, byte[] mark, byte[] with)
    {
        var output = new List<byte>(bytes.Length);
        for (int i = 0; i < bytes.Length;)
        {
            if (i + mark.Length <= bytes.Length && bytes.AsSpan(i, mark.Length).SequenceEqual(mark)) { output.AddRange(with); i += mark.Length; }
            else output.Add(bytes[i++]);
        }
        return [.. output];
    }
}
