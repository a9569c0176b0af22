using System.Text.Json;
using Whetstone.Engine.Models;
using Whetstone.Tokenization;

namespace Whetstone.Engine.Formats.Gguf;

/// <summary>The tokenizer.ggml.* keys for a Hugging Face byte-level BPE tokenizer, as
/// convert_hf_to_gguf's _set_vocab_gpt2 and gguf-py's SpecialVocab write them.</summary>
internal static class GgufVocabularyExport
{
    public static void Add(GgufMetadata metadata, string modelDirectory, ModelConfig config)
    {
        var path = Path.Combine(modelDirectory, "tokenizer.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"no tokenizer.json in '{modelDirectory}'", path);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        var model = root.GetProperty("model");

        var byId = new Dictionary<int, (string Token, GgufTokenType Type)>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
            byId[entry.Value.GetInt32()] = (entry.Name, GgufTokenType.Normal);
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            foreach (var token in added.EnumerateArray())
            {
                bool special = token.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
                byId[token.GetProperty("id").GetInt32()] = (token.GetProperty("content").GetString()!,
                    special ? GgufTokenType.Control : GgufTokenType.UserDefined);
            }

        // One entry per embedding row: llama.cpp checks tokens against the embedding's row count.
        int count = Math.Max(config.VocabSize, byId.Count == 0 ? 0 : byId.Keys.Max() + 1);
        var tokens = new string[count];
        var types = new int[count];
        for (int id = 0; id < count; id++)
        {
            var (token, type) = byId.TryGetValue(id, out var t) ? t : ($"[PAD{id}]", GgufTokenType.Unused);
            tokens[id] = token;
            types[id] = (int)type;
        }

        var merges = new List<string>();
        foreach (var merge in model.GetProperty("merges").EnumerateArray())
            merges.Add(merge.ValueKind == JsonValueKind.Array
                ? $"{merge[0].GetString()} {merge[1].GetString()}"
                : merge.GetString()!);

        metadata.Set("tokenizer.ggml.model", "gpt2");
        metadata.Set("tokenizer.ggml.pre", PreTokenizerName(root, config.Family));
        metadata.Set("tokenizer.ggml.tokens", tokens);
        metadata.Set("tokenizer.ggml.token_type", types);
        metadata.Set("tokenizer.ggml.merges", merges.ToArray());

        var tokenizer = HuggingFaceTokenizer.Load(modelDirectory);
        if (tokenizer.BosTokenId is int bos) metadata.Set("tokenizer.ggml.bos_token_id", (uint)bos);
        if (tokenizer.EosTokenIds.Count > 0) metadata.Set("tokenizer.ggml.eos_token_id", (uint)tokenizer.EosTokenIds[0]);
        if (tokenizer.PadTokenId is int pad) metadata.Set("tokenizer.ggml.padding_token_id", (uint)pad);
        // As gguf-py reads a TemplateProcessing post-processor: bos is added when the template puts it first.
        var prefix = tokenizer.Encode("", addSpecialTokens: true);
        metadata.Set("tokenizer.ggml.add_bos_token", prefix.Count > 0 && prefix[0] == tokenizer.BosTokenId);
        if (ChatTemplate(modelDirectory) is { } template) metadata.Set("tokenizer.chat_template", template);
    }

    /// <summary>The converter identifies the pre-tokenizer by hashing its output on a test text;
    /// our tokenizers carry one of two known regexes, so we name it from the regex directly.</summary>
    static string PreTokenizerName(JsonElement root, ModelFamily family)
    {
        var regexes = new List<string>();
        if (root.TryGetProperty("pre_tokenizer", out var pre)) CollectRegexes(pre, regexes);
        if (regexes.Contains(PreTokenizerPatterns.Llama3)) return GgufPreTokenizer.Llama3;
        if (regexes.Contains(PreTokenizerPatterns.Qwen2)) return GgufPreTokenizer.Qwen2;
        return family == ModelFamily.Llama ? GgufPreTokenizer.Llama3 : GgufPreTokenizer.Qwen2;
    }

    static void CollectRegexes(JsonElement element, List<string> regexes)
    {
        if (element.ValueKind == JsonValueKind.Object)
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "Regex" && property.Value.ValueKind == JsonValueKind.String) regexes.Add(property.Value.GetString()!);
                else CollectRegexes(property.Value, regexes);
            }
        else if (element.ValueKind == JsonValueKind.Array)
            foreach (var item in element.EnumerateArray()) CollectRegexes(item, regexes);
    }

    static string? ChatTemplate(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, "tokenizer_config.json");
        if (!File.Exists(path)) return null;
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.TryGetProperty("chat_template", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
    }
}
