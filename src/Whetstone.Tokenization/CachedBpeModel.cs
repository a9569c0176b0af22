using System.Collections.Concurrent;

namespace Whetstone.Tokenization;

/// <summary>
/// What both BPE models do around their merge rule: a pre-token found whole in the vocabulary is
/// that one id (where the model says so), and a merged pre-token's ids are cached by its text.
/// Each model brings its vocabulary and its <see cref="Merge"/>.
/// </summary>
internal abstract class CachedBpeModel : IBpeModel
{
    // Hugging Face caches words below 256 bytes; a cap keeps adversarial input from growing it without bound.
    private const int MaxCachedWordLength = 256;
    private const int MaxCacheEntries = 100_000;

    private readonly Dictionary<string, int> _vocabulary;
    private readonly bool _wholeWordFirst;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <param name="wholeWordFirst">A pre-token that is itself in the vocabulary maps straight to its id, before any merging.</param>
    protected CachedBpeModel(Dictionary<string, int> vocabulary, bool wholeWordFirst)
    {
        _vocabulary = vocabulary;
        _wholeWordFirst = wholeWordFirst;
    }

    public IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    /// <summary>Appends the ids of one pre-token given in byte-level characters.</summary>
    public void Encode(string word, List<int> ids)
    {
        if (word.Length == 0) return;
        if (_wholeWordFirst && _vocabulary.TryGetValue(word, out int whole))
        {
            ids.Add(whole);
            return;
        }
        if (_cache.TryGetValue(word, out var cached))
        {
            ids.AddRange(cached);
            return;
        }
        int[] merged = Merge(word);
        if (word.Length < MaxCachedWordLength && _cache.Count < MaxCacheEntries) _cache.TryAdd(word, merged);
        ids.AddRange(merged);
    }

    /// <summary>The ids of a non-empty pre-token by the model's merge rule.</summary>
    protected abstract int[] Merge(string word);
}
