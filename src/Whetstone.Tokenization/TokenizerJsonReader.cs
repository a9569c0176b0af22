using System.Text.Json;

namespace Whetstone.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json for a byte-level BPE tokenizer (GPT-2, Llama 3, Qwen2/3).
/// Anything this encoder would get wrong is refused with the field that holds it.
/// </summary>
/// <remarks>truncation and padding are ignored: callers truncate and pad explicitly.</remarks>
internal static class TokenizerJsonReader
{
    public static TokenizerDefinition Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object.");

        var model = ReadModel(Required(root, "model"));
        var addedTokens = ReadAddedTokens(root);
        CheckDecoder(root);
        return new TokenizerDefinition(
            ReadNormalizer(root),
            addedTokens,
            PreTokenizerJsonReader.Read(root),
            model,
            PostProcessorJsonReader.Read(root));
    }

    /// <summary>Qwen2 and Qwen3 normalize to NFC; GPT-2 and Llama 3 have no normalizer.</summary>
    private static bool ReadNormalizer(JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind == JsonValueKind.Null) return false;
        string? type = OptionalString(normalizer, "type");
        if (type == "NFC") return true;
        throw new NotSupportedException($"tokenizer.json: normalizer.type '{type}' is not supported; supported are null and NFC.");
    }

    private static ByteLevelBpe ReadModel(JsonElement model)
    {
        // tokenizers accepts a model without "type" and recognises BPE by its fields.
        string type = OptionalString(model, "type") ?? (model.TryGetProperty("merges", out _) ? "BPE" : "(missing)");
        if (type != "BPE")
            throw new NotSupportedException($"tokenizer.json: model.type '{type}' is not supported; only byte-level 'BPE' is.");

        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() != 0)
            throw new NotSupportedException($"tokenizer.json: model.dropout {dropout.GetDouble()} is not supported; encoding must be deterministic.");
        foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (OptionalString(model, affix) is { Length: > 0 } value)
                throw new NotSupportedException($"tokenizer.json: model.{affix} '{value}' is not supported by byte-level BPE.");
        }
        if (OptionalBool(model, "byte_fallback", false))
            throw new NotSupportedException("tokenizer.json: model.byte_fallback true is not supported; it belongs to SentencePiece-style BPE, not byte-level BPE.");

        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in Required(model, "vocab", "model.").EnumerateObject())
            vocabulary[entry.Name] = NonNegativeId(entry.Value, $"model.vocab[\"{entry.Name}\"]");

        var merges = new List<(string, string)>();
        int index = 0;
        foreach (var merge in Required(model, "merges", "model.").EnumerateArray())
        {
            merges.Add(ReadMerge(merge, index++));
        }

        return new ByteLevelBpe(
            vocabulary,
            merges,
            OptionalString(model, "unk_token"),
            OptionalBool(model, "fuse_unk", false),
            OptionalBool(model, "ignore_merges", false));
    }

    /// <summary>A merge is "left right" in older files and ["left", "right"] in files written by tokenizers 0.20 and later.</summary>
    private static (string, string) ReadMerge(JsonElement merge, int index)
    {
        if (merge.ValueKind == JsonValueKind.String)
        {
            string text = merge.GetString()!;
            int space = text.IndexOf(' ');
            if (space > 0 && space < text.Length - 1 && text.IndexOf(' ', space + 1) < 0) return (text[..space], text[(space + 1)..]);
        }
        else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                 && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
        {
            return (merge[0].GetString()!, merge[1].GetString()!);
        }
        throw new InvalidDataException($"tokenizer.json: model.merges[{index}] is {merge.GetRawText()}; expected \"left right\" or [\"left\", \"right\"].");
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root)
    {
        var tokens = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var added) || added.ValueKind == JsonValueKind.Null) return tokens;
        int index = 0;
        foreach (var token in added.EnumerateArray())
        {
            string field = $"added_tokens[{index++}].";
            bool special = OptionalBool(token, "special", false);
            tokens.Add(new AddedToken(
                NonNegativeId(Required(token, "id", field), field + "id"),
                Required(token, "content", field).GetString() ?? throw new InvalidDataException($"tokenizer.json: {field}content is null."),
                OptionalBool(token, "single_word", false),
                OptionalBool(token, "lstrip", false),
                OptionalBool(token, "rstrip", false),
                OptionalBool(token, "normalized", !special),
                special));
        }
        return tokens;
    }

    private static void CheckDecoder(JsonElement root)
    {
        root.TryGetProperty("decoder", out var decoder);
        string? type = decoder.ValueKind == JsonValueKind.Object ? OptionalString(decoder, "type") : null;
        if (type == "Sequence" && decoder.TryGetProperty("decoders", out var decoders) && decoders.GetArrayLength() == 1)
            type = OptionalString(decoders[0], "type");
        if (type != "ByteLevel")
            throw new NotSupportedException($"tokenizer.json: decoder.type '{type ?? "null"}' is not supported; byte-level BPE needs the ByteLevel decoder.");
    }

    private static int NonNegativeId(JsonElement id, string field) =>
        id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out int value) && value >= 0
            ? value
            : throw new InvalidDataException($"tokenizer.json: {field} is {id.GetRawText()}; expected a non-negative integer id.");

    internal static JsonElement Required(JsonElement obj, string name, string fieldPrefix = "")
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null) return value;
        throw new InvalidDataException($"tokenizer.json: {fieldPrefix}{name} is missing.");
    }

    internal static string? OptionalString(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    internal static bool OptionalBool(JsonElement obj, string name, bool fallback) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : fallback;
}
