using Whetstone.Engine.Sampling;

namespace Whetstone.Engine.Tests.Sampling;

/// <summary>Prefix reuse must be exact up to float rounding: a sequence extending a kept one gets
/// the logprobs a full prefill gives it, while prefilling only what follows the shared prefix.</summary>
public class PrefixKvStoreTests(SamplerFixture fixture) : IClassFixture<SamplerFixture>
{
    const float Tolerance = 1e-4f;
    readonly Sampler _sampler = fixture.Sampler;

    static int[] Tokens(int count, int seed) => Enumerable.Range(0, count).Select(i => (i * 37 + seed * 11) % 90 + 5).ToArray();

    void AssertSameLogprobs(IReadOnlyList<float?> expected, IReadOnlyList<float?> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Null(actual[0]);
        for (int t = 1; t < expected.Count; t++)
            Assert.True(Math.Abs(expected[t]!.Value - actual[t]!.Value) <= Tolerance, $"token {t}: full prefill {expected[t]}, with reuse {actual[t]}");
    }

    [Fact]
    public void ASequenceSharingAKeptPrefixGetsTheFullPrefillsLogprobsAndPrefillsOnlyItsNewTokens()
    {
        using var store = new PrefixKvStore(1L << 30);
        var first = Tokens(40, 1);
        var kept = _sampler.ComputeLogprobs(first, store, "m", keepPrefix: true);
        Assert.Equal(0, kept.ReusedTokens);
        AssertSameLogprobs(_sampler.ComputeLogprobs(first), kept.Logprobs);

        // Shares 30 tokens, then goes its own way: the 30th is run again (its logits must predict this sequence's token 31).
        int[] second = [.. first.Take(30), .. Tokens(15, 2)];
        Assert.NotEqual(first[30], second[30]);
        var reused = _sampler.ComputeLogprobs(second, store, "m", keepPrefix: false);
        Assert.Equal(29, reused.ReusedTokens);
        Assert.Equal(45 - 29, reused.PrefilledTokens(second.Length));
        AssertSameLogprobs(_sampler.ComputeLogprobs(second), reused.Logprobs);

        // Not kept: the next call still extends the first sequence, here by 8 tokens after all 40.
        int[] third = [.. first, .. Tokens(8, 3)];
        var extended = _sampler.ComputeLogprobs(third, store, "m", keepPrefix: true);
        Assert.Equal(39, extended.ReusedTokens);
        AssertSameLogprobs(_sampler.ComputeLogprobs(third), extended.Logprobs);

        // A sequence that is a prefix of the kept one: all but its last token reused.
        var shorter = first.Take(20).ToArray();
        var inside = _sampler.ComputeLogprobs(shorter, store, "m", keepPrefix: false);
        Assert.Equal(19, inside.ReusedTokens);
        AssertSameLogprobs(_sampler.ComputeLogprobs(shorter), inside.Logprobs);
    }

    [Fact]
    public void AnotherKeyOrADifferentFirstTokenReusesNothing()
    {
        using var store = new PrefixKvStore(1L << 30);
        var first = Tokens(24, 4);
        _sampler.ComputeLogprobs(first, store, "a", keepPrefix: true);
        Assert.Equal(0, _sampler.ComputeLogprobs(first, store, "b", keepPrefix: false).ReusedTokens);
        int[] changed = [first[0] + 1, .. first.Skip(1)];
        var fresh = _sampler.ComputeLogprobs(changed, store, "a", keepPrefix: false);
        Assert.Equal(0, fresh.ReusedTokens);
        AssertSameLogprobs(_sampler.ComputeLogprobs(changed), fresh.Logprobs);
    }

    [Fact]
    public void TheStoreStaysWithinItsBytesByEvictingTheLeastRecentlyUsed()
    {
        using var probe = new PrefixKvStore(1L << 30);
        _sampler.ComputeLogprobs(Tokens(32, 5), probe, "x", keepPrefix: true);
        long entryBytes = probe.Bytes;
        Assert.True(entryBytes > 0);

        // Room for two entries of 32 tokens.
        using var store = new PrefixKvStore(2 * entryBytes + entryBytes / 2);
        _sampler.ComputeLogprobs(Tokens(32, 6), store, "a", keepPrefix: true);
        _sampler.ComputeLogprobs(Tokens(32, 7), store, "b", keepPrefix: true);
        Assert.NotNull(store.Get("a"));   // a is now the most recently used: b goes first
        _sampler.ComputeLogprobs(Tokens(32, 8), store, "c", keepPrefix: true);
        Assert.Equal(2, store.Count);
        Assert.Equal(1, store.Evictions);
        Assert.Null(store.Get("b"));
        Assert.NotNull(store.Get("a"));
        Assert.NotNull(store.Get("c"));
        Assert.Equal(2 * entryBytes, store.Bytes);
        Assert.Equal(31, _sampler.ComputeLogprobs(Tokens(32, 6), store, "a", keepPrefix: false).ReusedTokens);

        // An entry larger than the whole store is not kept, and evicts nothing.
        _sampler.ComputeLogprobs(Tokens(100, 9), store, "big", keepPrefix: true);
        Assert.Null(store.Get("big"));
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public void RemoveUnderDropsTheKeyAndItsSubkeysOnlyAndFreesTheirBytes()
    {
        using var store = new PrefixKvStore(1L << 30);
        foreach (var key in new[] { "memory/t/m1", "memory/t/m1/without/0", "memory/t/m1/without/1", "memory/t/m10", "memory/t/m10/without/0", "memory/t/m2" })
            _sampler.ComputeLogprobs(Tokens(16, key.Length), store, key, keepPrefix: true);
        long entryBytes = store.Bytes / 6;
        Assert.Equal(3, store.CountUnder("memory/t/m1"));   // m10 shares the text prefix, not the key path

        Assert.Equal(3, store.RemoveUnder("memory/t/m1"));
        Assert.Equal(3, store.Count);
        Assert.Equal(3 * entryBytes, store.Bytes);
        Assert.Null(store.Get("memory/t/m1"));
        Assert.Null(store.Get("memory/t/m1/without/1"));
        Assert.NotNull(store.Get("memory/t/m10/without/0"));
        Assert.NotNull(store.Get("memory/t/m2"));
        Assert.Equal(0, store.Evictions);   // removed, not evicted
        Assert.Equal(0, store.RemoveUnder("memory/t/m1"));
    }
}
