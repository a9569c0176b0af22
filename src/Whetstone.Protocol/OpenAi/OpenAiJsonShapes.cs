using System.Text.Json;
using System.Text.Json.Serialization;

namespace Whetstone.Protocol.OpenAi;

// The OpenAI fields that take one of several JSON shapes. Each converter reads the shapes OpenAI
// allows and otherwise throws a JsonException saying what it expected; the serializer adds the
// JSON path, which names the field in the refusal.

/// <summary>stop: a string or an array of strings.</summary>
internal sealed class StopSequencesJson : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return [reader.GetString()!];
        using var value = JsonDocument.ParseValue(ref reader);
        var root = value.RootElement;
        return root.ValueKind == JsonValueKind.Array && root.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
            ? root.EnumerateArray().Select(x => x.GetString()!).ToArray()
            : throw new JsonException("must be a string or an array of strings");
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var stop in value) writer.WriteStringValue(stop);
        writer.WriteEndArray();
    }
}

/// <summary>content: a string or an array of parts ({"type": "text", "text"}, {"type": "image_url",
/// "image_url": {"url"}} or "image_url": "url"; other parts are kept with their type so the
/// refusal can name them).</summary>
internal sealed class MessageContentJson : JsonConverter<MessageContent>
{
    public override MessageContent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return new MessageContent(reader.GetString(), null);
        using var value = JsonDocument.ParseValue(ref reader);
        if (value.RootElement.ValueKind != JsonValueKind.Array) throw new JsonException("must be a string or an array of text parts");
        return new MessageContent(null, value.RootElement.EnumerateArray().Select(part => part.ValueKind == JsonValueKind.Object
            ? new ContentPart(String(part, "type"), String(part, "text")) { ImageUrl = ImageUrl(part) }
            : new ContentPart(null, null)).ToArray());
    }

    static string? ImageUrl(JsonElement part) =>
        !part.TryGetProperty("image_url", out var image) ? null
        : image.ValueKind == JsonValueKind.String ? image.GetString()
        : image.ValueKind == JsonValueKind.Object ? String(image, "url") : null;

    static string? String(JsonElement part, string name) =>
        part.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public override void Write(Utf8JsonWriter writer, MessageContent value, JsonSerializerOptions options)
    {
        if (value.Parts is null) { writer.WriteStringValue(value.Text); return; }
        writer.WriteStartArray();
        foreach (var part in value.Parts)
        {
            writer.WriteStartObject();
            writer.WriteString("type", part.Type);
            if (part.ImageUrl is not null)
            {
                writer.WriteStartObject("image_url");
                writer.WriteString("url", part.ImageUrl);
                writer.WriteEndObject();
            }
            else writer.WriteString("text", part.Text);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}

/// <summary>prompt: a string, an array of strings, an array of token ids, or an array of arrays of them.</summary>
internal sealed class CompletionPromptJson : JsonConverter<CompletionPrompt>
{
    public override CompletionPrompt Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return new CompletionPrompt([reader.GetString()!], null);
        using var value = JsonDocument.ParseValue(ref reader);
        var items = value.RootElement.ValueKind == JsonValueKind.Array ? value.RootElement.EnumerateArray().ToArray() : [];
        if (items.Length > 0 && items.All(x => x.ValueKind == JsonValueKind.String))
            return new CompletionPrompt(items.Select(x => x.GetString()!).ToArray(), null);
        if (items.Length > 0 && items.All(x => x.ValueKind == JsonValueKind.Array && x.EnumerateArray().All(IsTokenId)))
            return new CompletionPrompt(null, items.Select(x => x.EnumerateArray().Select(t => t.GetInt32()).ToArray()).ToArray());
        if (items.Length > 0 && items.All(IsTokenId))
            return new CompletionPrompt(null, [items.Select(x => x.GetInt32()).ToArray()]);
        throw new JsonException("must be a string or an array of integer token ids");
    }

    static bool IsTokenId(JsonElement x) => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out _);

    public override void Write(Utf8JsonWriter writer, CompletionPrompt value, JsonSerializerOptions options)
    {
        if (value.Texts is { Count: 1 } texts) { writer.WriteStringValue(texts[0]); return; }
        writer.WriteStartArray();
        foreach (var text in value.Texts ?? []) writer.WriteStringValue(text);
        foreach (var tokens in value.TokenLists ?? [])
        {
            if (value.TokenLists!.Count > 1) writer.WriteStartArray();
            foreach (var token in tokens) writer.WriteNumberValue(token);
            if (value.TokenLists!.Count > 1) writer.WriteEndArray();
        }
        writer.WriteEndArray();
    }
}
