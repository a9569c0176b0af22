using System.Text.Json;
using System.Text.Json.Nodes;

namespace Whetstone.Tokenization;

/// <summary>
/// Kimi K2's tokenizer as Moonshot ships it: tiktoken.model (the ranked byte sequences) and
/// tokenizer_config.json, whose added_tokens_decoder names the special tokens. As in Moonshot's
/// tokenization_kimi.py, the 256 ids right after the ranked sequences are special: those the
/// config names, and <c>&lt;|reserved_token_ID|&gt;</c> for the rest. Pre-tokenization is
/// <see cref="KimiPreTokenizer"/>; there is no normalization and nothing is added around a text.
/// </summary>
public static class KimiTokenizerFiles
{
    /// <summary>Special ids after the ranked sequences (num_reserved_special_tokens).</summary>
    public const int ReservedSpecialTokens = 256;

    /// <summary>
    /// Kimi K2 (Thinking)'s named special tokens as offsets from the first special id (163,584 in
    /// the released vocabulary of 163,584 ranked sequences): [BOS] is 163584, &lt;|im_end|&gt; 163586,
    /// &lt;think&gt; 163606, [PAD] 163839.
    /// </summary>
    public static readonly IReadOnlyList<(int Offset, string Content)> PublishedSpecialTokens =
    [
        (0, "[BOS]"), (1, "[EOS]"), (2, "<|im_end|>"), (3, "<|im_user|>"), (4, "<|im_assistant|>"),
        (6, "<|start_header_id|>"), (7, "<|end_header_id|>"), (9, "[EOT]"), (10, "<|im_system|>"),
        (11, "<|tool_calls_section_begin|>"), (12, "<|tool_calls_section_end|>"), (13, "<|tool_call_begin|>"),
        (14, "<|tool_call_argument_begin|>"), (15, "<|tool_call_end|>"), (17, "<|im_middle|>"),
        (18, "<|media_begin|>"), (19, "<|media_content|>"), (20, "<|media_end|>"), (21, "<|media_pad|>"),
        (22, "<think>"), (23, "</think>"), (254, "[UNK]"), (255, "[PAD]"),
    ];

    /// <summary>Whether the directory holds a tokenizer in this format (and no tokenizer.json).</summary>
    public static bool IsPresent(string modelDirectory) => File.Exists(Path.Combine(modelDirectory, TiktokenModelFile.FileName));

    internal static TokenizerDefinition Read(string modelDirectory)
    {
        var ranks = TiktokenModelFile.Read(Path.Combine(modelDirectory, TiktokenModelFile.FileName));
        int firstSpecial = ranks.Count;
        foreach (var (token, rank) in ranks)
        {
            if (rank >= firstSpecial)
                throw new InvalidDataException($"{TiktokenModelFile.FileName}: rank {rank} of '{token}' is not below the number of ranked sequences ({firstSpecial}); ranks must be 0..{firstSpecial - 1}.");
        }

        var named = ReadAddedTokens(Path.Combine(modelDirectory, "tokenizer_config.json"), firstSpecial);
        var added = new List<AddedToken>(ReservedSpecialTokens);
        for (int id = firstSpecial; id < firstSpecial + ReservedSpecialTokens; id++)
        {
            added.Add(named.TryGetValue(id, out var token) ? token
                : new AddedToken(id, $"<|reserved_token_{id}|>", SingleWord: false, LeftStrip: false, RightStrip: false, Normalized: false, Special: true));
        }
        return new TokenizerDefinition(NormalizeNfc: false, added, KimiPreTokenizer.Create(), new TiktokenBpe(ranks), SpecialTokenTemplate.None);
    }

    private static Dictionary<int, AddedToken> ReadAddedTokens(string path, int firstSpecial)
    {
        var tokens = new Dictionary<int, AddedToken>();
        if (!File.Exists(path)) return tokens;
        using var config = JsonDocument.Parse(File.ReadAllBytes(path));
        if (!config.RootElement.TryGetProperty("added_tokens_decoder", out var decoder)) return tokens;
        if (decoder.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("tokenizer_config.json: added_tokens_decoder must be an object of id → token.");
        foreach (var entry in decoder.EnumerateObject())
        {
            string field = $"tokenizer_config.json: added_tokens_decoder[\"{entry.Name}\"]";
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                throw new InvalidDataException($"{field}: the key must be a token id.");
            if (id < firstSpecial || id >= firstSpecial + ReservedSpecialTokens)
                throw new InvalidDataException($"{field}: id {id} is outside the special ids {firstSpecial}..{firstSpecial + ReservedSpecialTokens - 1} that follow the {firstSpecial} ranked sequences.");
            var value = entry.Value;
            string content = value.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() is { Length: > 0 } text
                ? text : throw new InvalidDataException($"{field}: content must be a non-empty string.");
            tokens[id] = new AddedToken(id, content,
                SingleWord: Flag(value, "single_word"), LeftStrip: Flag(value, "lstrip"), RightStrip: Flag(value, "rstrip"),
                Normalized: false, Special: !value.TryGetProperty("special", out var special) || special.ValueKind != JsonValueKind.False);
        }
        return tokens;
    }

    private static bool Flag(JsonElement value, string name) => value.TryGetProperty(name, out var flag) && flag.ValueKind == JsonValueKind.True;

    /// <summary>
    /// A Kimi-format tokenizer for a model made here: the 256 bytes (rank = byte), then each
    /// merge's result in merge order (a result already ranked is skipped), then the special ids.
    /// </summary>
    public static GeneratedTokenizer WriteFromMerges(string directory, IReadOnlyList<BpeMerge>? merges, string? chatTemplate = null)
    {
        var sequences = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList();
        var seen = new HashSet<string>(sequences.Select(s => ByteLevelAlphabet.ByteToChar[s[0]].ToString()), StringComparer.Ordinal);
        foreach (var merge in merges ?? [])
            if (seen.Add(merge.Merged)) sequences.Add(ByteLevelAlphabet.Decode(merge.Merged));
        Write(directory, sequences, chatTemplate);
        int first = sequences.Count;
        var specials = PublishedSpecialTokens.ToDictionary(t => t.Content, t => first + t.Offset);
        return new GeneratedTokenizer(first + ReservedSpecialTokens, first + ReservedSpecialTokens, specials["[BOS]"], [specials["<|im_end|>"]], specials["[PAD]"], specials);
    }

    /// <summary>
    /// Writes a tokenizer in Kimi's format: the ranked sequences (rank = position), and a
    /// tokenizer_config.json naming <see cref="PublishedSpecialTokens"/> at their offsets after them,
    /// with [BOS] as bos and &lt;|im_end|&gt; as eos. For tests and models made here.
    /// </summary>
    public static void Write(string directory, IReadOnlyList<byte[]> sequencesInRankOrder, string? chatTemplate = null)
    {
        Directory.CreateDirectory(directory);
        TiktokenModelFile.Write(Path.Combine(directory, TiktokenModelFile.FileName), sequencesInRankOrder);
        int first = sequencesInRankOrder.Count;
        var decoder = new JsonObject();
        foreach (var (offset, content) in PublishedSpecialTokens)
        {
            decoder[(first + offset).ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false, ["single_word"] = false, ["special"] = true,
            };
        }
        var config = new JsonObject
        {
            ["added_tokens_decoder"] = decoder,
            ["bos_token"] = "[BOS]",
            ["eos_token"] = "<|im_end|>",
            ["pad_token"] = "[PAD]",
            ["tokenizer_class"] = "TikTokenTokenizer",
        };
        if (chatTemplate is not null) config["chat_template"] = chatTemplate;
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
