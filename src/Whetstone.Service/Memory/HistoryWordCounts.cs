namespace Whetstone.Service.Memory;

/// <summary>How many turns of the whole history said each word, in a fixed number of buckets (a
/// count sketch keyed by a stable hash of the word): the memory's only state besides its spans, and
/// of a size fixed by <see cref="Buckets"/>, never by the history, so the O(B) turn stays O(B).
/// It is what lets small talk fade: a sentence said on hundreds of turns has words with high
/// counts, a fact said once has words with count 1 (<see cref="SpanSalience"/>). Collisions only
/// ever raise a count, so a rare word can look common, never the reverse.</summary>
internal static class HistoryWordCounts
{
    public const int Buckets = 2048;

    /// <summary>A copy of <paramref name="counts"/> (empty: a memory from before the sketch) with
    /// one more turn counted for each distinct word in <paramref name="words"/>.</summary>
    public static int[] Add(IReadOnlyList<int> counts, IEnumerable<string> words)
    {
        var next = counts.Count == Buckets ? counts.ToArray() : new int[Buckets];
        foreach (var bucket in words.Select(Bucket).Distinct())
            if (next[bucket] < int.MaxValue) next[bucket]++;
        return next;
    }

    /// <summary>Turns that said <paramref name="word"/> (at least 1: the span asking says it).</summary>
    public static int Count(IReadOnlyList<int> counts, string word) => counts.Count == Buckets ? Math.Max(1, counts[Bucket(word)]) : 1;

    // FNV-1a over the word's chars: string.GetHashCode is randomised per process, and counts must survive a restart.
    static int Bucket(string word)
    {
        uint hash = 2166136261;
        foreach (char c in word) hash = (hash ^ c) * 16777619;
        return (int)(hash % Buckets);
    }
}
