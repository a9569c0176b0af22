namespace Whetstone.Tokenization;

/// <summary>
/// The BPE model of a byte-level tokenizer: turns one pre-token, spelled in byte-level characters,
/// into vocabulary ids by applying merges in rank order.
/// </summary>
/// <remarks>
/// Written here rather than taken from Microsoft.ML.Tokenizers 2.0.1, whose BpeTokenizer (ByteLevel,
/// RegexPreTokenizer, special tokens) was checked against Hugging Face on the test corpus and
/// differs in two ways: it has no ignore_merges (Llama 3 maps a pre-token found whole in the
/// vocabulary straight to its id, which rank-ordered merging does not always reach: "qxz" in the
/// tests), and its regex pre-tokenizer splits by UTF-16 unit, so "😀abc" is two pre-tokens instead
/// of one (see <see cref="CodePointRegex"/>). It would also need our own NFC (see
/// <see cref="NfcNormalizer"/>). The merge loop mirrors tokenizers' Word::merge_all: lowest rank
/// first, leftmost first among equal ranks.
/// </remarks>
internal sealed class ByteLevelBpe : CachedBpeModel
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<long, (int Rank, int MergedId)> _merges;
    private readonly int[] _charIds;
    private readonly int? _unknownId;
    private readonly bool _fuseUnknown;

    /// <param name="merges">Pairs of vocabulary tokens in rank order; a later duplicate replaces an earlier one, as in Hugging Face.</param>
    public ByteLevelBpe(
        Dictionary<string, int> vocabulary,
        IReadOnlyList<(string Left, string Right)> merges,
        string? unknownToken,
        bool fuseUnknown,
        bool ignoreMerges) : base(vocabulary, wholeWordFirst: ignoreMerges)
    {
        _vocabulary = vocabulary;
        _fuseUnknown = fuseUnknown;
        if (unknownToken is not null)
        {
            _unknownId = vocabulary.TryGetValue(unknownToken, out int unk)
                ? unk
                : throw new InvalidDataException($"tokenizer.json: model.unk_token '{unknownToken}' is not in model.vocab.");
        }

        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            int leftId = IdOfMergePart(left, rank);
            int rightId = IdOfMergePart(right, rank);
            int mergedId = IdOfMergePart(left + right, rank);
            _merges[PairKey(leftId, rightId)] = (rank, mergedId);
        }

        _charIds = new int[char.MaxValue + 1];
        Array.Fill(_charIds, -1);
        foreach (var (token, id) in vocabulary)
        {
            if (token.Length == 1) _charIds[token[0]] = id;
        }
    }

    protected override int[] Merge(string word)
    {
        var symbols = InitialSymbols(word);
        int count = symbols.Count;
        if (count < 2) return symbols.ToArray();

        int[] id = symbols.ToArray();
        int[] next = new int[count];
        int[] previous = new int[count];
        bool[] removed = new bool[count];
        for (int i = 0; i < count; i++)
        {
            next[i] = i + 1 < count ? i + 1 : -1;
            previous[i] = i - 1;
        }

        var queue = new PriorityQueue<(int Position, int MergedId), long>();
        void Offer(int position)
        {
            if (_merges.TryGetValue(PairKey(id[position], id[next[position]]), out var merge))
                queue.Enqueue((position, merge.MergedId), ((long)merge.Rank << 32) | (uint)position);
        }
        for (int i = 0; i + 1 < count; i++) Offer(i);

        while (queue.TryDequeue(out var candidate, out _))
        {
            int position = candidate.Position;
            int right = next[position];
            if (removed[position] || right < 0) continue;
            // An entry is stale when either side has merged since it was queued.
            if (!_merges.TryGetValue(PairKey(id[position], id[right]), out var merge) || merge.MergedId != candidate.MergedId) continue;

            id[position] = merge.MergedId;
            removed[right] = true;
            next[position] = next[right];
            if (next[right] >= 0) previous[next[right]] = position;
            if (previous[position] >= 0) Offer(previous[position]);
            if (next[position] >= 0) Offer(position);
        }

        var result = new List<int>(count);
        for (int i = 0; i >= 0; i = next[i]) result.Add(id[i]);
        return result.ToArray();
    }

    /// <summary>One symbol per character; characters outside the vocabulary become unk or are dropped, as in Hugging Face.</summary>
    private List<int> InitialSymbols(string word)
    {
        var symbols = new List<int>(word.Length);
        bool previousWasUnknown = false;
        foreach (char c in word)
        {
            int charId = _charIds[c];
            if (charId >= 0)
            {
                symbols.Add(charId);
                previousWasUnknown = false;
            }
            else if (_unknownId is int unknownId)
            {
                if (!(_fuseUnknown && previousWasUnknown)) symbols.Add(unknownId);
                previousWasUnknown = true;
            }
        }
        return symbols;
    }

    private int IdOfMergePart(string token, int rank) =>
        _vocabulary.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"tokenizer.json: model.merges[{rank}] needs '{token}', which is not in model.vocab.");

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;
}
