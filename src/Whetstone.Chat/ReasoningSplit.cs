using System.Text.RegularExpressions;

namespace Whetstone.Chat;

/// <summary>The part every completion parser shares: the completion cut at the end token, a leading
/// think block taken out as the reasoning, and the assistant message the parser hands back.</summary>
internal static class ReasoningSplit
{
    /// <summary>The text before <paramref name="endToken"/>, less the leading think block that
    /// <paramref name="thinkBlock"/> matches (its group 1 is the reasoning; the families differ in
    /// whether the white space after it goes too); the reasoning, null when there is no such block.</summary>
    public static (string Text, string? Reasoning) Split(string text, string endToken, Regex thinkBlock)
    {
        int end = text.IndexOf(endToken, StringComparison.Ordinal);
        if (end >= 0) text = text[..end];
        var think = thinkBlock.Match(text);
        return think.Success
            ? (text.Remove(think.Index, think.Length), think.Groups[1].Value.Trim('\n'))
            : (text, null);
    }

    /// <summary>The assistant message: the answer trimmed of newlines, tool calls only when there are some.</summary>
    public static ChatMessage Message(string text, string? reasoning, List<ToolCall> calls) =>
        new("assistant", text.Trim('\n')) { Reasoning = reasoning, ToolCalls = calls.Count > 0 ? calls : null };
}
