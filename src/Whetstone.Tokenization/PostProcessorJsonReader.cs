using System.Text.Json;
using static Whetstone.Tokenization.TokenizerJsonReader;

namespace Whetstone.Tokenization;

/// <summary>
/// Reads tokenizer.json's post_processor for what Encode(addSpecialTokens: true) adds to a single
/// sequence: TemplateProcessing's special tokens before and after "$A" (Llama 3's
/// &lt;|begin_of_text|&gt;). ByteLevel post-processing only adjusts offsets, so it adds nothing.
/// </summary>
internal static class PostProcessorJsonReader
{
    public static SpecialTokenTemplate Read(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var processor) || processor.ValueKind == JsonValueKind.Null)
            return SpecialTokenTemplate.None;
        return Read(processor, "post_processor");
    }

    private static SpecialTokenTemplate Read(JsonElement processor, string field)
    {
        string? type = OptionalString(processor, "type");
        switch (type)
        {
            case "ByteLevel":
                return SpecialTokenTemplate.None;
            case "TemplateProcessing":
                return ReadTemplate(processor, field);
            case "Sequence":
                // Each processor wraps the output of the one before it.
                var prefix = new List<int>();
                var suffix = new List<int>();
                int index = 0;
                foreach (var inner in Required(processor, "processors", field + ".").EnumerateArray())
                {
                    var template = Read(inner, $"{field}.processors[{index++}]");
                    prefix.InsertRange(0, template.PrefixIds);
                    suffix.AddRange(template.SuffixIds);
                }
                return new SpecialTokenTemplate(prefix, suffix);
            default:
                throw new NotSupportedException(
                    $"tokenizer.json: {field}.type '{type}' is not supported; supported are ByteLevel, TemplateProcessing and Sequence.");
        }
    }

    private static SpecialTokenTemplate ReadTemplate(JsonElement template, string field)
    {
        var specialTokens = Required(template, "special_tokens", field + ".");
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool seenSequence = false;
        int index = 0;
        foreach (var piece in Required(template, "single", field + ".").EnumerateArray())
        {
            string pieceField = $"{field}.single[{index++}]";
            if (piece.TryGetProperty("Sequence", out _))
            {
                if (seenSequence) throw new NotSupportedException($"tokenizer.json: {pieceField} repeats the sequence; a single template holds it once.");
                seenSequence = true;
            }
            else if (piece.TryGetProperty("SpecialToken", out var special))
            {
                string name = OptionalString(special, "id") ?? throw new InvalidDataException($"tokenizer.json: {pieceField}.SpecialToken.id is missing.");
                if (!specialTokens.TryGetProperty(name, out var definition))
                    throw new InvalidDataException($"tokenizer.json: {pieceField} names '{name}', which is not in {field}.special_tokens.");
                var ids = Required(definition, "ids", $"{field}.special_tokens.{name}.").EnumerateArray().Select(id => id.GetInt32());
                (seenSequence ? suffix : prefix).AddRange(ids);
            }
            else
            {
                throw new InvalidDataException($"tokenizer.json: {pieceField} must be a Sequence or a SpecialToken.");
            }
        }
        if (!seenSequence) throw new InvalidDataException($"tokenizer.json: {field}.single has no Sequence.");
        return new SpecialTokenTemplate(prefix, suffix);
    }
}
