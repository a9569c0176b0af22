using System.Text.Json;

namespace Whetstone.Tokenization;

/// <summary>
/// The bos, eos and pad ids a model directory declares in tokenizer_config.json (token strings, or
/// {"content": ...} objects) and generation_config.json (ids; eos may be one id or a list).
/// </summary>
/// <remarks>
/// bos and pad come from tokenizer_config.json first: it is the tokenizer's own view, while Qwen's
/// generation_config.json names a bos id the tokenizer never adds. eos is the union, tokenizer
/// first: Llama 3.1 Instruct stops on &lt;|eot_id|&gt; (tokenizer_config) and on
/// &lt;|end_of_text|&gt; and &lt;|eom_id|&gt; (generation_config).
/// </remarks>
internal sealed record ModelSpecialTokens(int? BosTokenId, IReadOnlyList<int> EosTokenIds, int? PadTokenId, string? ChatTemplate)
{
    public static ModelSpecialTokens Read(string modelDirectory, Func<string, int?> tokenToId)
    {
        string tokenizerConfigPath = Path.Combine(modelDirectory, "tokenizer_config.json");
        string generationConfigPath = Path.Combine(modelDirectory, "generation_config.json");

        int? bos = null, pad = null;
        string? chatTemplate = null;
        var eos = new List<int>();
        if (File.Exists(tokenizerConfigPath))
        {
            using var config = JsonDocument.Parse(File.ReadAllBytes(tokenizerConfigPath));
            bos = TokenId(config.RootElement, "bos_token", tokenToId);
            pad = TokenId(config.RootElement, "pad_token", tokenToId);
            if (TokenId(config.RootElement, "eos_token", tokenToId) is int eosId) eos.Add(eosId);
            chatTemplate = ReadChatTemplate(config.RootElement);
        }
        if (File.Exists(generationConfigPath))
        {
            using var config = JsonDocument.Parse(File.ReadAllBytes(generationConfigPath));
            var root = config.RootElement;
            bos ??= Ids(root, "bos_token_id").Cast<int?>().FirstOrDefault();
            pad ??= Ids(root, "pad_token_id").Cast<int?>().FirstOrDefault();
            foreach (int id in Ids(root, "eos_token_id"))
            {
                if (!eos.Contains(id)) eos.Add(id);
            }
        }
        return new ModelSpecialTokens(bos, eos, pad, chatTemplate);
    }

    /// <summary>chat_template is a string, or a list of {"name", "template"} of which "default" is the chat one.</summary>
    private static string? ReadChatTemplate(JsonElement config)
    {
        if (!config.TryGetProperty("chat_template", out var value)) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        if (value.ValueKind != JsonValueKind.Array) return null;
        string? first = null;
        foreach (var entry in value.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("template", out var template)) continue;
            first ??= template.GetString();
            if (entry.TryGetProperty("name", out var name) && name.GetString() == "default") return template.GetString();
        }
        return first;
    }

    private static int? TokenId(JsonElement config, string field, Func<string, int?> tokenToId)
    {
        if (!config.TryGetProperty(field, out var value)) return null;
        string? token = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) => content.GetString(),
            _ => null,
        };
        if (token is null) return null;
        return tokenToId(token)
            ?? throw new InvalidDataException($"tokenizer_config.json: {field} '{token}' is not a token of tokenizer.json.");
    }

    private static IEnumerable<int> Ids(JsonElement config, string field)
    {
        if (!config.TryGetProperty(field, out var value)) return [];
        return value.ValueKind switch
        {
            JsonValueKind.Number => [value.GetInt32()],
            JsonValueKind.Array => value.EnumerateArray().Select(id => id.GetInt32()).ToArray(),
            JsonValueKind.Null => [],
            _ => throw new InvalidDataException($"generation_config.json: {field} is {value.GetRawText()}; expected an id or a list of ids."),
        };
    }
}
