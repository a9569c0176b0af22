using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Whetstone.Service.Auth;

/// <summary>API key secrets: <c>whet_</c> followed by 32 random bytes in base64url (256 bits), shown
/// to the user once; only their SHA-256 (lowercase hex) is stored. A plain hash without salt is
/// enough because the secret is random and long, not a password: there is nothing to guess.</summary>
internal static class ApiKeyHasher
{
    public const string Prefix = "whet_";
    private const int SecretBytes = 32;

    public static string GenerateSecret() =>
        Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));

    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    /// <summary>Constant-time: how long the comparison takes says nothing about how much matched.</summary>
    public static bool Matches(string secret, string storedHash)
    {
        ArgumentNullException.ThrowIfNull(storedHash);
        return CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Hash(secret)), Encoding.ASCII.GetBytes(storedHash.ToLowerInvariant()));
    }
}
