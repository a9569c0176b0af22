namespace Whetstone.Service.Tests;

/// <summary>StableHash gives the same numbers in every process: the expected values were computed
/// independently (Python's hashlib: the first 8 bytes of sha256(text), little-endian), so a seed
/// that HashCode.Combine or string.GetHashCode (randomised per process) produced would fail here.</summary>
public sealed class StableHashTests
{
    [Fact]
    public void Of_is_the_first_eight_bytes_of_sha256_little_endian()
    {
        Assert.Equal(5010828037090527292UL, StableHash.Of("héllo"));
    }

    [Fact]
    public void Seeds_match_the_values_computed_outside_dotnet()
    {
        Assert.Equal(1463807506, StableHash.Seed("loop-step", 7, 1, 0));
        Assert.Equal(340604879, StableHash.Seed("loop-step", 7, 1, 1));
        Assert.Equal(1824540709, StableHash.Seed("loop-anchor", 7, 2));
    }

    [Fact]
    public void Canary_buckets_are_the_stable_hash_of_deployment_and_key()
    {
        Assert.Equal(3033, Serving.CanaryRouting.Bucket("dep", "user:alice"));
    }

    [Fact]
    public void Seeds_are_non_negative_and_differ_by_purpose_and_part()
    {
        var seeds = new HashSet<int>();
        foreach (var purpose in new[] { "loop-step", "loop-anchor" })
            for (long a = 0; a < 10; a++)
                for (long b = -5; b < 5; b++)
                {
                    int seed = StableHash.Seed(purpose, a, b);
                    Assert.InRange(seed, 0, int.MaxValue);
                    seeds.Add(seed);
                }
        Assert.Equal(200, seeds.Count);
    }
}
