namespace Whetstone.Tokenization;

/// <summary>
/// tiktoken's BPE: a pre-token found whole in the ranks is that one token; otherwise, starting
/// from single bytes, the adjacent pair whose concatenation has the lowest rank is merged
/// (leftmost among equal ranks) until no adjacent pair concatenates to a ranked sequence. The
/// rank of a byte sequence is its id. Keys are spelled in byte-level characters, as
/// <see cref="HuggingFaceTokenizer"/> hands pre-tokens over.
/// </summary>
/// <remarks>
/// Unlike Hugging Face's merge list, the rank belongs to the merged sequence, not to the pair, so
/// any two parts whose concatenation is ranked may merge. Converting ranks to a merge list (as
/// some converters do) is exact only when every ranked sequence has one way of being built; this
/// class runs tiktoken's own rule instead. A piece is short (one pre-token), so the quadratic scan
/// tiktoken also uses is fine.
/// </remarks>
internal sealed class TiktokenBpe : CachedBpeModel
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanRanks;

    /// <param name="ranks">Every mergeable byte sequence (byte-level spelling) with its rank; all 256 single bytes must be there.</param>
    public TiktokenBpe(Dictionary<string, int> ranks) : base(ranks, wholeWordFirst: true)
    {
        _spanRanks = ranks.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    protected override int[] Merge(string word)
    {
        // starts[i] is where part i begins; part i ends where part i+1 begins (the last entry is word.Length).
        var starts = new List<int>(word.Length + 1);
        for (int i = 0; i <= word.Length; i++) starts.Add(i);
        // pairRank[i]: rank of part i joined with part i+1, or int.MaxValue when that is not ranked.
        var pairRank = new List<int>(word.Length);
        for (int i = 0; i + 1 < word.Length; i++) pairRank.Add(RankOf(word, starts[i], starts[i + 2]));

        while (pairRank.Count > 0)
        {
            int best = 0;
            for (int i = 1; i < pairRank.Count; i++)
                if (pairRank[i] < pairRank[best]) best = i;
            if (pairRank[best] == int.MaxValue) break;

            starts.RemoveAt(best + 1);
            pairRank.RemoveAt(best);
            if (best < pairRank.Count) pairRank[best] = RankOf(word, starts[best], starts[best + 2]);
            if (best > 0) pairRank[best - 1] = RankOf(word, starts[best - 1], starts[best + 1]);
        }

        var ids = new int[starts.Count - 1];
        for (int i = 0; i < ids.Length; i++)
        {
            int rank = RankOf(word, starts[i], starts[i + 1]);
            ids[i] = rank != int.MaxValue
                ? rank
                : throw new InvalidDataException($"tiktoken.model: the byte 0x{ByteLevelAlphabet.Decode(word[starts[i]..starts[i + 1]])[0]:X2} has no rank; a tiktoken file ranks all 256 single bytes.");
        }
        return ids;
    }

    private int RankOf(string word, int start, int end) =>
        _spanRanks.TryGetValue(word.AsSpan(start, end - start), out int rank) ? rank : int.MaxValue;
}
