using System.Text.Encodings.Web;
using System.Text.Json;

namespace Whetstone.Tokenization;

/// <summary>
/// Writes the tokenizer of a freshly made model: tokenizer.json and tokenizer_config.json that
/// both Hugging Face (transformers, tokenizers) and <see cref="HuggingFaceTokenizer"/> load.
/// </summary>
/// <remarks>
/// The vocabulary is the 256 byte tokens as ids 0..255 in GPT-2's order (printable bytes first),
/// then one token per merge, then the style's special tokens as added_tokens. Merges are written
/// as "left right" strings, the form every tokenizers version reads (byte-level tokens never hold a space).
/// </remarks>
public static class ByteLevelTokenizerFiles
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <param name="directory">Created if missing; tokenizer.json and tokenizer_config.json are overwritten.</param>
    /// <param name="style">Which family's conventions to follow.</param>
    /// <param name="merges">Merges in rank order (for example from <see cref="ByteLevelBpeTrainer"/>); none gives a pure byte tokenizer.</param>
    /// <param name="vocabSizeMultiple">Rounds <see cref="GeneratedTokenizer.ModelVocabSize"/> up to a multiple of this, as Qwen pads 151,665 tokens to 151,936 rows.</param>
    public static GeneratedTokenizer Write(
        string directory,
        ByteLevelTokenizerStyle style,
        IReadOnlyList<BpeMerge>? merges = null,
        int vocabSizeMultiple = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSizeMultiple, 1);
        var conventions = ByteLevelStyleConventions.For(style);
        merges ??= [];

        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (byte b in ByteLevelAlphabet.BytesInVocabularyOrder) vocabulary.Add(ByteLevelAlphabet.ByteToChar[b].ToString(), vocabulary.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var merge = merges[rank];
            foreach (string part in new[] { merge.Left, merge.Right })
            {
                if (!vocabulary.ContainsKey(part))
                    throw new ArgumentException($"merges[{rank}] uses '{part}', which neither a byte nor an earlier merge produces.", nameof(merges));
            }
            vocabulary.TryAdd(merge.Merged, vocabulary.Count);
        }

        var specialIds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string token in conventions.SpecialTokens) specialIds.Add(token, vocabulary.Count + specialIds.Count);
        int tokenCount = vocabulary.Count + specialIds.Count;

        Directory.CreateDirectory(directory);
        WriteJson(Path.Combine(directory, "tokenizer.json"), writer => WriteTokenizerJson(writer, conventions, vocabulary, merges, specialIds));
        WriteJson(Path.Combine(directory, "tokenizer_config.json"), writer => WriteTokenizerConfig(writer, conventions, specialIds));

        return new GeneratedTokenizer(
            tokenCount,
            (tokenCount + vocabSizeMultiple - 1) / vocabSizeMultiple * vocabSizeMultiple,
            conventions.BosToken is { } bos ? specialIds[bos] : null,
            conventions.GenerationEosTokens.Select(t => specialIds[t]).ToArray(),
            conventions.PadToken is { } pad ? specialIds[pad] : null,
            specialIds);
    }

    private static void WriteTokenizerJson(
        Utf8JsonWriter writer,
        ByteLevelStyleConventions conventions,
        Dictionary<string, int> vocabulary,
        IReadOnlyList<BpeMerge> merges,
        Dictionary<string, int> specialIds)
    {
        writer.WriteStartObject();
        writer.WriteString("version", "1.0");
        writer.WriteNull("truncation");
        writer.WriteNull("padding");

        writer.WriteStartArray("added_tokens");
        foreach (var (content, id) in specialIds) WriteAddedToken(writer, content, id);
        writer.WriteEndArray();

        if (conventions.NormalizeNfc)
        {
            writer.WriteStartObject("normalizer");
            writer.WriteString("type", "NFC");
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("normalizer");
        }

        writer.WriteStartObject("pre_tokenizer");
        writer.WriteString("type", "Sequence");
        writer.WriteStartArray("pretokenizers");
        writer.WriteStartObject();
        writer.WriteString("type", "Split");
        writer.WriteStartObject("pattern");
        writer.WriteString("Regex", conventions.PreTokenizerPattern);
        writer.WriteEndObject();
        writer.WriteString("behavior", "Isolated");
        writer.WriteBoolean("invert", false);
        writer.WriteEndObject();
        WriteByteLevel(writer, null);
        writer.WriteEndArray();
        writer.WriteEndObject();

        if (conventions.BosToken is { } bos)
        {
            writer.WriteStartObject("post_processor");
            writer.WriteString("type", "Sequence");
            writer.WriteStartArray("processors");
            WriteByteLevel(writer, null);
            WriteBosTemplate(writer, bos, specialIds[bos]);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        else
        {
            WriteByteLevel(writer, "post_processor");
        }
        WriteByteLevel(writer, "decoder");

        writer.WriteStartObject("model");
        writer.WriteString("type", "BPE");
        writer.WriteNull("dropout");
        writer.WriteNull("unk_token");
        writer.WriteNull("continuing_subword_prefix");
        writer.WriteNull("end_of_word_suffix");
        writer.WriteBoolean("fuse_unk", false);
        writer.WriteBoolean("byte_fallback", false);
        writer.WriteBoolean("ignore_merges", conventions.IgnoreMerges);
        writer.WriteStartObject("vocab");
        foreach (var (token, id) in vocabulary) writer.WriteNumber(token, id);
        writer.WriteEndObject();
        writer.WriteStartArray("merges");
        foreach (var merge in merges) writer.WriteStringValue($"{merge.Left} {merge.Right}");
        writer.WriteEndArray();
        writer.WriteEndObject();

        writer.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter writer, string? propertyName)
    {
        if (propertyName is null) writer.WriteStartObject();
        else writer.WriteStartObject(propertyName);
        writer.WriteString("type", "ByteLevel");
        writer.WriteBoolean("add_prefix_space", false);
        writer.WriteBoolean("trim_offsets", false);
        writer.WriteBoolean("use_regex", false);
        writer.WriteEndObject();
    }

    /// <summary>Llama 3's TemplateProcessing: bos before a single sequence and before each of a pair.</summary>
    private static void WriteBosTemplate(Utf8JsonWriter writer, string bos, int bosId)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "TemplateProcessing");
        writer.WriteStartArray("single");
        WriteTemplatePiece(writer, "SpecialToken", bos, 0);
        WriteTemplatePiece(writer, "Sequence", "A", 0);
        writer.WriteEndArray();
        writer.WriteStartArray("pair");
        WriteTemplatePiece(writer, "SpecialToken", bos, 0);
        WriteTemplatePiece(writer, "Sequence", "A", 0);
        WriteTemplatePiece(writer, "SpecialToken", bos, 1);
        WriteTemplatePiece(writer, "Sequence", "B", 1);
        writer.WriteEndArray();
        writer.WriteStartObject("special_tokens");
        writer.WriteStartObject(bos);
        writer.WriteString("id", bos);
        writer.WriteStartArray("ids");
        writer.WriteNumberValue(bosId);
        writer.WriteEndArray();
        writer.WriteStartArray("tokens");
        writer.WriteStringValue(bos);
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteTemplatePiece(Utf8JsonWriter writer, string kind, string id, int typeId)
    {
        writer.WriteStartObject();
        writer.WriteStartObject(kind);
        writer.WriteString("id", id);
        writer.WriteNumber("type_id", typeId);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteAddedToken(Utf8JsonWriter writer, string content, int? id)
    {
        writer.WriteStartObject();
        if (id is int value) writer.WriteNumber("id", value);
        writer.WriteString("content", content);
        writer.WriteBoolean("single_word", false);
        writer.WriteBoolean("lstrip", false);
        writer.WriteBoolean("rstrip", false);
        writer.WriteBoolean("normalized", false);
        writer.WriteBoolean("special", true);
        writer.WriteEndObject();
    }

    private static void WriteTokenizerConfig(Utf8JsonWriter writer, ByteLevelStyleConventions conventions, Dictionary<string, int> specialIds)
    {
        writer.WriteStartObject();
        writer.WriteBoolean("add_bos_token", false); // the post-processor adds bos where the style has one
        writer.WriteBoolean("add_prefix_space", false);
        writer.WriteStartObject("added_tokens_decoder");
        foreach (var (content, id) in specialIds)
        {
            writer.WritePropertyName(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            WriteAddedToken(writer, content, null);
        }
        writer.WriteEndObject();
        WriteOptionalString(writer, "bos_token", conventions.BosToken);
        writer.WriteString("chat_template", conventions.ChatTemplate);
        // transformers' clean-up deletes spaces before punctuation, which breaks round trips.
        writer.WriteBoolean("clean_up_tokenization_spaces", false);
        writer.WriteString("eos_token", conventions.EosToken);
        writer.WriteStartArray("model_input_names");
        writer.WriteStringValue("input_ids");
        writer.WriteStringValue("attention_mask");
        writer.WriteEndArray();
        WriteOptionalString(writer, "pad_token", conventions.PadToken);
        writer.WriteBoolean("split_special_tokens", false);
        // The generic fast class needs only tokenizer.json (Qwen2Tokenizer would also want vocab.json and merges.txt).
        writer.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        writer.WriteNull("unk_token");
        writer.WriteEndObject();
    }

    private static void WriteOptionalString(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> write)
    {
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream, WriterOptions);
        write(writer);
    }
}
