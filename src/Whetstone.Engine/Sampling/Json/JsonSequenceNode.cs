namespace Whetstone.Engine.Sampling.Json;

/// <summary>Several parts one after another, with nothing between them: the glue that puts a
/// schema-constrained value inside fixed text (a tool call's <c>{"name": "f", "arguments": </c>
/// … <c>}</c>). Not a JSON value of its own; literal parts are one-value <see cref="JsonLiteralNode"/>s.</summary>
public sealed class JsonSequenceNode(IReadOnlyList<JsonSchemaNode> parts) : JsonSchemaNode
{
    public IReadOnlyList<JsonSchemaNode> Parts { get; } = parts.Count > 0 ? parts : throw new ArgumentException("a sequence needs a part", nameof(parts));
    public override int MinBytes { get; } = parts.Sum(p => p.MinBytes);

    /// <summary>Fixed text as a part.</summary>
    public static JsonLiteralNode Text(string text) => new([System.Text.Encoding.UTF8.GetBytes(text)]);
}
