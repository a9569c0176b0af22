using System.Text;
using Whetstone.Tokenization;

namespace Whetstone.Service.OpenAi;

/// <summary>The text of one choice as its tokens arrive: whole UTF-8 characters only (a character
/// split across tokens comes out once complete), end-of-turn tokens left out, and cut before the
/// caller's first stop string, as OpenAI returns it. Text that may still turn out to begin a stop
/// string is held back until it cannot, so a stream never shows what the final text drops.</summary>
internal sealed class ChoiceText(HuggingFaceTokenizer tokenizer, IReadOnlySet<int> hiddenTokens, IReadOnlyList<string> stops)
{
    readonly StreamingDecoder _decoder = tokenizer.CreateStreamingDecoder();
    readonly StringBuilder _text = new();
    int _released;
    bool _cut;

    /// <summary>The text released so far (all of it after <see cref="Finish"/>).</summary>
    public string Text => _text.ToString(0, _released);

    /// <summary>Whether the token counts as output (not an end-of-turn token).</summary>
    public bool Visible(int token) => !hiddenTokens.Contains(token);

    /// <summary>The text this token releases (may be empty).</summary>
    public string Append(int token)
    {
        if (_cut || !Visible(token)) return "";
        _text.Append(_decoder.Append(token));
        return Release(final: false);
    }

    /// <summary>Whatever was held back.</summary>
    public string Finish()
    {
        if (!_cut) _text.Append(_decoder.Flush());
        return Release(final: true);
    }

    string Release(bool final)
    {
        if (_cut) return "";
        var all = _text.ToString();
        int limit = all.Length;
        foreach (var stop in stops)
        {
            int at = all.IndexOf(stop, Math.Max(0, _released - stop.Length + 1), StringComparison.Ordinal);
            if (at >= 0 && at < limit) { limit = at; _cut = true; }
        }
        if (_cut) _text.Length = limit;
        else if (!final) limit -= HeldBack(all);
        limit = Math.Max(limit, _released);
        var piece = all[_released..limit];
        _released = limit;
        return piece;
    }

    // The longest tail of the text that is a proper prefix of some stop string.
    int HeldBack(string all)
    {
        int held = 0;
        foreach (var stop in stops)
            for (int length = Math.Min(stop.Length - 1, all.Length); length > held; length--)
                if (string.CompareOrdinal(all, all.Length - length, stop, 0, length) == 0) { held = length; break; }
        return held;
    }
}
