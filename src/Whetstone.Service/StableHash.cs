using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Whetstone.Service;

/// <summary>Hashes that are the same in every process, on every machine and after every restart, for
/// seeds and persisted choices (canary arms, held-out prompts, a loop step's prompts). HashCode.Combine
/// and string.GetHashCode are randomised per process: a loop seeded with them drew other prompts in
/// every run of the same spec.</summary>
internal static class StableHash
{
    /// <summary>The first 8 bytes of SHA-256 over the UTF-8 text, little-endian.</summary>
    public static ulong Of(string text)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }

    /// <summary>A non-negative Random seed from a purpose (so two uses of the same numbers draw
    /// different streams) and the numbers it depends on: hash of "purpose:a,b,c".</summary>
    public static int Seed(string purpose, params ReadOnlySpan<long> parts)
    {
        var text = new StringBuilder(purpose).Append(':');
        for (int i = 0; i < parts.Length; i++) text.Append(i == 0 ? "" : ",").Append(parts[i].ToString(CultureInfo.InvariantCulture));
        return (int)(Of(text.ToString()) & int.MaxValue);
    }
}
