using System.Globalization;
using System.Text.RegularExpressions;

namespace Whetstone.Service.Loops;

/// <summary>A verifiable reward's arithmetic check: the value of the last integer sum or difference
/// in the prompt ("What is 57 + 68?"), recomputed here, against the last "Answer: N" of the answer.
/// The prompt is the rendered chat prompt, so the question is its last "A + B" / "A - B" (a system
/// message before it carries no sum in the cases this is meant for; a later one would win).</summary>
internal static partial class ArithmeticAnswer
{
    [GeneratedRegex(@"(\d+)\s*([+\-−])\s*(\d+)")]
    private static partial Regex Expression();

    [GeneratedRegex(@"Answer:\s*(-?\d+)")]
    private static partial Regex AnswerLine();

    /// <summary>The value of the prompt's last "A + B" or "A - B" (null: none, or too long a number).</summary>
    public static long? Expected(string prompt)
    {
        var matches = Expression().Matches(prompt);
        if (matches.Count == 0) return null;
        var m = matches[^1];
        if (!long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long a)
            || !long.TryParse(m.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long b)) return null;
        return m.Groups[2].Value == "+" ? a + b : a - b;
    }

    /// <summary>The number of the answer's last "Answer: N" line (null: none).</summary>
    public static long? Stated(string answer)
    {
        var matches = AnswerLine().Matches(answer);
        return matches.Count > 0 && long.TryParse(matches[^1].Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)
            ? n : null;
    }

    /// <summary>The character index just past the number of the answer's first "Answer: N" (null: none).</summary>
    public static int? FirstAnswerEnd(string answer) => AnswerLine().Match(answer) is { Success: true } m ? m.Index + m.Length : null;

    /// <summary>The answer states the prompt's value; false when either is missing (an answer cut off
    /// before its "Answer:" line is not right).</summary>
    public static bool IsRight(string prompt, string answer) => Expected(prompt) is { } expected && Stated(answer) == expected;

    /// <summary>A correction that keeps the served answer's "Answer: N" (both have one and they are
    /// equal): the user changed words or layout, not the result.</summary>
    public static bool KeepsAnswer(string? original, string correction) =>
        original is not null && Stated(original) is { } served && Stated(correction) == served;
}
