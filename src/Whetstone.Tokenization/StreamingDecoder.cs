using System.Text;

namespace Whetstone.Tokenization;

/// <summary>
/// Decodes generated tokens one at a time, returning only whole characters: the bytes of a
/// character split across tokens (byte-level BPE splits emoji and rare CJK this way) are held
/// back until it is complete. The concatenation of every <see cref="Append"/> and the final
/// <see cref="Flush"/> equals <see cref="HuggingFaceTokenizer.Decode"/> of the same ids.
/// </summary>
/// <remarks>Not thread-safe: one decoder per generated sequence.</remarks>
public sealed class StreamingDecoder
{
    private readonly HuggingFaceTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<byte> _pending = new(8);

    internal StreamingDecoder(HuggingFaceTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>The text completed by <paramref name="tokenId"/>; empty while a character is still incomplete.</summary>
    public string Append(int tokenId)
    {
        if (_tokenizer.TokenBytes(tokenId, _skipSpecialTokens) is not { Length: > 0 } bytes) return "";
        _pending.AddRange(bytes);

        int complete = _pending.Count - IncompleteTailLength(_pending);
        if (complete == 0) return "";
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending)[..complete]);
        _pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Whatever is held back, with an unfinished character decoded as U+FFFD.</summary>
    public string Flush()
    {
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    /// <summary>
    /// How many trailing bytes start a character that more bytes could still complete. Cutting just
    /// before a lead byte never changes how the rest decodes (a lead byte always starts a new
    /// character or a new invalid sequence), so emitting in pieces equals decoding all at once.
    /// </summary>
    private static int IncompleteTailLength(List<byte> bytes)
    {
        for (int back = 1; back <= Math.Min(3, bytes.Count); back++)
        {
            byte b = bytes[bytes.Count - back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
            int needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back ? back : 0;
        }
        return 0;
    }
}
