using System.Text;

namespace Whetstone.Tokenization;

/// <summary>
/// A Hugging Face byte-level BPE tokenizer (GPT-2, Llama 3, Qwen2/Qwen3) loaded from a model
/// directory, producing the same ids as the tokenizers library.
/// </summary>
/// <remarks>Thread-safe: encoding and decoding share only read-only tables and a concurrent cache.</remarks>
public sealed class HuggingFaceTokenizer
{
    private readonly TokenizerDefinition _definition;
    private readonly AddedTokenMatcher _rawAddedTokens;
    private readonly AddedTokenMatcher _normalizedAddedTokens;
    private readonly Dictionary<string, int> _addedTokenIds = new(StringComparer.Ordinal);
    private readonly string?[] _tokens;
    private readonly byte[]?[] _tokenBytes;
    private readonly bool[] _isSpecial;

    private HuggingFaceTokenizer(TokenizerDefinition definition)
    {
        _definition = definition;
        var added = definition.AddedTokens;
        // As in tokenizers: tokens marked normalized are looked for in normalized text, spelled normalized.
        _rawAddedTokens = new AddedTokenMatcher(added.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedAddedTokens = new AddedTokenMatcher(added.Where(t => t.Normalized).Select(t => (Normalize(t.Content), t)));

        int maxId = -1;
        foreach (int id in definition.Model.Vocabulary.Values) maxId = Math.Max(maxId, id);
        foreach (var token in added) maxId = Math.Max(maxId, token.Id);
        VocabSize = maxId + 1;

        _tokens = new string?[VocabSize];
        _tokenBytes = new byte[]?[VocabSize];
        _isSpecial = new bool[VocabSize];
        foreach (var (token, id) in definition.Model.Vocabulary) _tokens[id] = token;
        foreach (var token in added)
        {
            // Added tokens take precedence over the model's vocabulary, in both directions.
            _tokens[token.Id] = token.Content;
            _isSpecial[token.Id] = token.Special;
            _addedTokenIds[token.Content] = token.Id;
        }
        for (int id = 0; id < VocabSize; id++)
        {
            if (_tokens[id] is { } token) _tokenBytes[id] = ByteLevelAlphabet.Decode(token);
        }
    }

    /// <summary>Loads tokenizer.json (or, without one, Kimi K2's tiktoken.model: see
    /// <see cref="KimiTokenizerFiles"/>), and tokenizer_config.json and generation_config.json when present.</summary>
    public static HuggingFaceTokenizer Load(string modelDirectory)
    {
        string path = Path.Combine(modelDirectory, "tokenizer.json");
        bool tiktoken = !File.Exists(path) && KimiTokenizerFiles.IsPresent(modelDirectory);
        if (!File.Exists(path) && !tiktoken) throw new FileNotFoundException($"No tokenizer.json (nor tiktoken.model) in '{modelDirectory}'.", path);
        var tokenizer = new HuggingFaceTokenizer(tiktoken ? KimiTokenizerFiles.Read(modelDirectory) : TokenizerJsonReader.Read(path));
        var special = ModelSpecialTokens.Read(modelDirectory, tokenizer.TokenToId);
        tokenizer.BosTokenId = special.BosTokenId;
        tokenizer.EosTokenIds = special.EosTokenIds;
        tokenizer.PadTokenId = special.PadTokenId;
        tokenizer.ChatTemplate = special.ChatTemplate;
        return tokenizer;
    }

    /// <summary>One more than the highest id of the vocabulary and the added tokens.</summary>
    public int VocabSize { get; }

    public int? BosTokenId { get; private set; }

    /// <summary>Every id that ends generation; empty when the model directory names none.</summary>
    public IReadOnlyList<int> EosTokenIds { get; private set; } = [];

    public int? PadTokenId { get; private set; }

    /// <summary>The Jinja chat template of tokenizer_config.json, if any. Only read to tell which
    /// renderer the model expects; rendering is done in code (the cookbook's renderers).</summary>
    public string? ChatTemplate { get; private set; }

    /// <summary>
    /// The ids of <paramref name="text"/>. Added tokens (special or not) written in the text become
    /// their single id. With <paramref name="addSpecialTokens"/>, the post-processor's template is
    /// applied (Llama 3 puts &lt;|begin_of_text|&gt; first; Qwen adds nothing).
    /// </summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens) ids.AddRange(_definition.Template.PrefixIds);

        var rawSegments = new List<TextSegment>();
        _rawAddedTokens.Split(text, rawSegments);
        var segments = new List<TextSegment>();
        foreach (var raw in rawSegments)
        {
            if (raw.IsAddedToken)
            {
                ids.Add(raw.TokenId);
                continue;
            }
            segments.Clear();
            _normalizedAddedTokens.Split(Normalize(raw.Text), segments);
            foreach (var segment in segments)
            {
                if (segment.IsAddedToken)
                {
                    ids.Add(segment.TokenId);
                    continue;
                }
                foreach (string piece in _definition.PreTokenizer.Split(segment.Text))
                    _definition.Model.Encode(ByteLevelAlphabet.Encode(piece), ids);
            }
        }

        if (addSpecialTokens) ids.AddRange(_definition.Template.SuffixIds);
        return ids;
    }

    /// <summary>
    /// The text of <paramref name="ids"/>. Unknown ids are skipped; bytes that do not form valid
    /// UTF-8 become U+FFFD, as in the tokenizers library.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (TokenBytes(id, skipSpecialTokens) is { } tokenBytes) bytes.AddRange(tokenBytes);
        }
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>A decoder for text generated one token at a time.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    /// <summary>The vocabulary entry of <paramref name="id"/>: byte-level spelling ("Ġhello") or an added token's content.</summary>
    public string? IdToToken(int id) => id >= 0 && id < VocabSize ? _tokens[id] : null;

    /// <summary>The id of a vocabulary entry or added token, spelled as <see cref="IdToToken"/> returns it.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedTokenIds.TryGetValue(token, out int added)) return added;
        return _definition.Model.Vocabulary.TryGetValue(token, out int id) ? id : null;
    }

    /// <summary>Whether <paramref name="id"/> is an added token marked special.</summary>
    public bool IsSpecialToken(int id) => id >= 0 && id < VocabSize && _isSpecial[id];

    /// <summary>The bytes <paramref name="id"/> stands for; null for an unknown id or a skipped special token.</summary>
    /// <summary>The bytes a token decodes to (null for an unknown id, or a special token when skipped).</summary>
    public byte[]? TokenBytes(int id, bool skipSpecialTokens)
    {
        if (id < 0 || id >= VocabSize) return null;
        if (skipSpecialTokens && _isSpecial[id]) return null;
        return _tokenBytes[id];
    }

    private string Normalize(string text) => _definition.NormalizeNfc ? NfcNormalizer.Normalize(text) : text;
}
