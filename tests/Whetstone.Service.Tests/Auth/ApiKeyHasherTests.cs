using Whetstone.Service.Auth;

namespace Whetstone.Service.Tests.Auth;

public sealed class ApiKeyHasherTests
{
    [Fact]
    public void SecretIsPrefixedAndCarries256RandomBits()
    {
        var secret = ApiKeyHasher.GenerateSecret();
        Assert.StartsWith("whet_", secret);
        Assert.Equal(5 + 43, secret.Length); // 32 bytes in unpadded base64url
        Assert.Matches("^whet_[A-Za-z0-9_-]{43}$", secret);
        Assert.NotEqual(secret, ApiKeyHasher.GenerateSecret());
    }

    [Fact]
    public void HashIsLowercaseHexSha256()
    {
        // sha256("abc"), from FIPS 180-2.
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyHasher.Hash("abc"));
    }

    [Fact]
    public void MatchesOnlyTheSecretThatWasHashed()
    {
        var secret = ApiKeyHasher.GenerateSecret();
        var hash = ApiKeyHasher.Hash(secret);
        Assert.True(ApiKeyHasher.Matches(secret, hash));
        Assert.True(ApiKeyHasher.Matches(secret, hash.ToUpperInvariant()));
        Assert.False(ApiKeyHasher.Matches(secret + "x", hash));
        Assert.False(ApiKeyHasher.Matches(secret, hash[..^1]));
    }
}
