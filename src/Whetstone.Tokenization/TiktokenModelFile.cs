using System.Text;

namespace Whetstone.Tokenization;

/// <summary>
/// The tiktoken.model format: one line per mergeable byte sequence, its bytes in base64, a space,
/// and its rank (which is its token id). Kimi K2 ships its vocabulary this way.
/// </summary>
public static class TiktokenModelFile
{
    public const string FileName = "tiktoken.model";

    /// <summary>The ranked byte sequences, spelled in byte-level characters (as tokenizer.json spells them).</summary>
    /// <exception cref="InvalidDataException">A line that is not base64 and a rank, a repeated
    /// sequence or rank, or a single byte without a rank; the message names the line.</exception>
    internal static Dictionary<string, int> Read(string path)
    {
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        var seenRanks = new HashSet<int>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            int space = line.IndexOf(' ');
            byte[] bytes;
            int rank;
            try
            {
                if (space <= 0 || !int.TryParse(line.AsSpan(space + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out rank))
                    throw new FormatException("expected '<base64> <rank>'");
                bytes = Convert.FromBase64String(line[..space]);
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{FileName} line {lineNumber}: {e.Message}.");
            }
            if (bytes.Length == 0) throw new InvalidDataException($"{FileName} line {lineNumber}: the byte sequence is empty.");
            string token = Spell(bytes);
            if (!ranks.TryAdd(token, rank)) throw new InvalidDataException($"{FileName} line {lineNumber}: the byte sequence '{line[..space]}' is ranked twice.");
            if (!seenRanks.Add(rank)) throw new InvalidDataException($"{FileName} line {lineNumber}: rank {rank} is given twice.");
        }
        for (int b = 0; b < 256; b++)
        {
            if (!ranks.ContainsKey(ByteLevelAlphabet.ByteToChar[b].ToString()))
                throw new InvalidDataException($"{FileName}: the single byte 0x{b:X2} has no rank; every byte needs one so any text can be encoded.");
        }
        return ranks;
    }

    /// <summary>Writes ranked byte sequences (rank = position in the list) in tiktoken's format.</summary>
    public static void Write(string path, IReadOnlyList<byte[]> sequencesInRankOrder)
    {
        ArgumentNullException.ThrowIfNull(sequencesInRankOrder);
        var text = new StringBuilder();
        for (int rank = 0; rank < sequencesInRankOrder.Count; rank++)
            text.Append(Convert.ToBase64String(sequencesInRankOrder[rank])).Append(' ').Append(rank).Append('\n');
        File.WriteAllText(path, text.ToString());
    }

    private static string Spell(byte[] bytes) => string.Create(bytes.Length, bytes, static (chars, source) =>
    {
        for (int i = 0; i < source.Length; i++) chars[i] = ByteLevelAlphabet.ByteToChar[source[i]];
    });
}
