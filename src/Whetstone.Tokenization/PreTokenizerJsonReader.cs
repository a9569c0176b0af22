using System.Text.Json;
using System.Text.RegularExpressions;
using static Whetstone.Tokenization.TokenizerJsonReader;

namespace Whetstone.Tokenization;

/// <summary>
/// Reads tokenizer.json's pre_tokenizer: Split (behavior Isolated) steps followed by a ByteLevel
/// step, alone or in a Sequence. This covers GPT-2 (ByteLevel with its own regex) and Llama 3,
/// Qwen2 and Qwen3 (Split with the family regex, then ByteLevel without).
/// </summary>
internal static class PreTokenizerJsonReader
{
    public static PreTokenizerPipeline Read(JsonElement root)
    {
        var preTokenizer = Required(root, "pre_tokenizer");
        var parts = new List<(JsonElement Element, string Field)>();
        if (OptionalString(preTokenizer, "type") == "Sequence")
        {
            int index = 0;
            foreach (var part in Required(preTokenizer, "pretokenizers", "pre_tokenizer.").EnumerateArray())
                parts.Add((part, $"pre_tokenizer.pretokenizers[{index++}]"));
        }
        else
        {
            parts.Add((preTokenizer, "pre_tokenizer"));
        }

        var steps = new List<PreTokenizerStep>();
        for (int i = 0; i < parts.Count; i++)
        {
            var (part, field) = parts[i];
            string? type = OptionalString(part, "type");
            switch (type)
            {
                case "Split":
                    steps.Add(PreTokenizerStep.Split(ReadSplit(part, field)));
                    break;
                case "ByteLevel":
                    if (i != parts.Count - 1)
                        throw new NotSupportedException($"tokenizer.json: {field} is ByteLevel but not the last pre-tokenizer; only Split steps may precede it.");
                    // tokenizers' defaults for a ByteLevel pre-tokenizer are add_prefix_space true and use_regex true.
                    if (OptionalBool(part, "add_prefix_space", true)) steps.Add(PreTokenizerStep.PrefixSpace);
                    if (OptionalBool(part, "use_regex", true))
                        steps.Add(PreTokenizerStep.Split(new CodePointRegex(PreTokenizerPatterns.Gpt2, $"{field} (GPT-2 regex)")));
                    return new PreTokenizerPipeline(steps);
                default:
                    throw new NotSupportedException(
                        $"tokenizer.json: {field}.type '{type}' is not supported; byte-level BPE needs Split steps followed by ByteLevel.");
            }
        }
        throw new NotSupportedException("tokenizer.json: pre_tokenizer has no ByteLevel step; only byte-level BPE tokenizers are supported.");
    }

    private static CodePointRegex ReadSplit(JsonElement split, string field)
    {
        string behavior = OptionalString(split, "behavior") ?? "(missing)";
        if (behavior != "Isolated")
            throw new NotSupportedException($"tokenizer.json: {field}.behavior '{behavior}' is not supported; only 'Isolated' is.");
        if (OptionalBool(split, "invert", false))
            throw new NotSupportedException($"tokenizer.json: {field}.invert true is not supported.");

        var pattern = Required(split, "pattern", field + ".");
        if (OptionalString(pattern, "Regex") is { } regex) return new CodePointRegex(regex, $"{field}.pattern.Regex");
        if (OptionalString(pattern, "String") is { } literal) return new CodePointRegex(Regex.Escape(literal), $"{field}.pattern.String");
        throw new InvalidDataException($"tokenizer.json: {field}.pattern must be {{\"Regex\": ...}} or {{\"String\": ...}}.");
    }
}
