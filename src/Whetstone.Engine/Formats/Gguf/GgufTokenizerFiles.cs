using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>Rebuilds tokenizer.json and tokenizer_config.json from a GGUF's tokenizer.ggml.*
/// keys: NORMAL tokens form the BPE vocabulary, CONTROL and USER_DEFINED tokens become added
/// tokens (special and not), UNUSED padding rows are left out.</summary>
internal static class GgufTokenizerFiles
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(GgufMetadata m, string directory)
    {
        string model = m.String("tokenizer.ggml.model");
        if (model != "gpt2") throw new NotSupportedException($"tokenizer.ggml.model = '{model}' is not supported (only byte-level BPE, 'gpt2')");
        var (pattern, nfc, ignoreMerges) = GgufPreTokenizer.Settings(GgufTokenizerDefaults.PreTokenizer(m));
        var tokens = m.Array<string>("tokenizer.ggml.tokens");
        var types = m.Find("tokenizer.ggml.token_type") is { } t ? ((Array)t).Cast<object>().Select(Convert.ToInt32).ToArray() : null;
        var merges = m.Find("tokenizer.ggml.merges") is null ? [] : m.Array<string>("tokenizer.ggml.merges");

        var vocab = new JsonObject();
        var added = new JsonArray();
        for (int id = 0; id < tokens.Length; id++)
        {
            var type = types is null ? GgufTokenType.Normal : (GgufTokenType)types[id];
            switch (type)
            {
                case GgufTokenType.Normal or GgufTokenType.Byte or GgufTokenType.Unknown: vocab[tokens[id]] = id; break;
                case GgufTokenType.Control or GgufTokenType.UserDefined: added.Add(AddedToken(id, tokens[id], type == GgufTokenType.Control)); break;
                case GgufTokenType.Unused: break;
                default: throw new InvalidDataException($"tokenizer.ggml.token_type[{id}] = {(int)type} is not a known token type");
            }
        }

        // Optional keys take llama.cpp's defaults (GgufTokenizerDefaults).
        int? bos = GgufTokenizerDefaults.BosTokenId(m);
        int? eos = GgufTokenizerDefaults.EosTokenId(m);
        int? pad = GgufTokenizerDefaults.PadTokenId(m);
        bool addBos = GgufTokenizerDefaults.AddBos(m) && bos is not null;
        string? Token(int? id) => id is int i && i >= 0 && i < tokens.Length ? tokens[i] : null;

        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = nfc ? new JsonObject { ["type"] = "NFC" } : null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    byteLevel.DeepClone()),
            },
            ["post_processor"] = addBos ? BosTemplate(Token(bos)!, bos!.Value, byteLevel) : byteLevel.DeepClone(),
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(merges.Select(s => (JsonNode)s).ToArray()),
            },
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString(Options));

        var config = new JsonObject
        {
            ["add_bos_token"] = false,   // the post-processor adds bos where the GGUF asks for it
            ["add_prefix_space"] = false,
            ["bos_token"] = Token(bos),
            ["eos_token"] = Token(eos),
            ["pad_token"] = Token(pad),
            ["clean_up_tokenization_spaces"] = false,
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
        };
        if (m.OptionalString("tokenizer.chat_template") is { } template) config["chat_template"] = template;
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(Options));
    }

    static JsonObject AddedToken(int id, string content, bool special) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
        ["normalized"] = false, ["special"] = special,
    };

    static JsonObject BosTemplate(string bos, int bosId, JsonObject byteLevel)
    {
        static JsonObject Piece(string kind, string id, int typeId) => new() { [kind] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
        return new JsonObject
        {
            ["type"] = "Sequence",
            ["processors"] = new JsonArray(
                byteLevel.DeepClone(),
                new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(Piece("SpecialToken", bos, 0), Piece("Sequence", "A", 0)),
                    ["pair"] = new JsonArray(Piece("SpecialToken", bos, 0), Piece("Sequence", "A", 0), Piece("SpecialToken", bos, 1), Piece("Sequence", "B", 1)),
                    ["special_tokens"] = new JsonObject { [bos] = new JsonObject { ["id"] = bos, ["ids"] = new JsonArray(bosId), ["tokens"] = new JsonArray(bos) } },
                }),
        };
    }
}
