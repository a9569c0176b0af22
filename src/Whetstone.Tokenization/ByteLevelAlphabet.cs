using System.Buffers;
using System.Text;

namespace Whetstone.Tokenization;

/// <summary>
/// GPT-2's reversible map between bytes and printable characters. Byte-level BPE vocabularies
/// (GPT-2, Llama 3, Qwen2) spell every token with these characters, so a space is 'Ġ' and a
/// newline 'Ċ'.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>The character that stands for each byte value.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>The bytes in the order GPT-2 lists them: printable bytes first, the rest after.</summary>
    public static readonly byte[] BytesInVocabularyOrder = BuildVocabularyOrder();

    // 324 covers every mapped character (the highest is U+0143); -1 marks characters outside the map.
    private static readonly short[] CharToByte = BuildCharToByte();

    /// <summary>Spells the UTF-8 bytes of <paramref name="text"/> in byte-level characters.</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        byte[] bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(text));
        try
        {
            int length = Encoding.UTF8.GetBytes(text, bytes);
            return string.Create(length, bytes, static (chars, source) =>
            {
                for (int i = 0; i < chars.Length; i++) chars[i] = ByteToChar[source[i]];
            });
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>
    /// The bytes a token string stands for. As in Hugging Face's ByteLevel decoder, a token with any
    /// character outside the map (an added token such as "&lt;think&gt; x") is taken as plain UTF-8.
    /// </summary>
    public static byte[] Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            char c = token[i];
            int b = c < CharToByte.Length ? CharToByte[c] : -1;
            if (b < 0) return Encoding.UTF8.GetBytes(token);
            bytes[i] = (byte)b;
        }
        return bytes;
    }

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = IsPrintable(b) ? (char)b : (char)next++;
        return map;
    }

    private static byte[] BuildVocabularyOrder()
    {
        var printable = Enumerable.Range(0, 256).Where(IsPrintable);
        var others = Enumerable.Range(0, 256).Where(b => !IsPrintable(b));
        return printable.Concat(others).Select(b => (byte)b).ToArray();
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[324];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++) map[ByteToChar[b]] = (short)b;
        return map;
    }
}
