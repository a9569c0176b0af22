using System.Text.Json;
using System.Text.RegularExpressions;

namespace Whetstone.Chat;

/// <summary>Reads a Kimi K2 completion: an optional leading <c>&lt;think&gt;…&lt;/think&gt;</c> block (the
/// reasoning), the answer, then a tool-call section whose calls are
/// <c>&lt;|tool_call_begin|&gt;functions.NAME:N&lt;|tool_call_argument_begin|&gt;{…}&lt;|tool_call_end|&gt;</c>.
/// A call whose id is not functions.NAME:N or whose arguments are not a JSON object stays in the
/// text, so nothing the model wrote is lost.</summary>
internal static partial class KimiCompletionParser
{
    public static ChatMessage Parse(string text, string endToken)
    {
        (text, string? reasoning) = ReasoningSplit.Split(text, endToken, ThinkBlock());
        var calls = new List<ToolCall>();
        var section = Section().Match(text);
        if (section.Success)
        {
            string rest = section.Groups[1].Value;
            foreach (Match call in Call().Matches(section.Groups[1].Value))
            {
                string arguments = call.Groups[3].Value;
                try
                {
                    using var json = JsonDocument.Parse(arguments);
                    if (json.RootElement.ValueKind != JsonValueKind.Object) continue;
                }
                catch (JsonException) { continue; }
                calls.Add(new ToolCall(call.Groups[2].Value, arguments) { Id = call.Groups[1].Value });
                rest = rest.Replace(call.Value, "");
            }
            // Calls that did not parse stay where they were; a section of only good calls goes.
            text = text.Remove(section.Index, section.Length).Insert(section.Index, rest.Trim().Length == 0 ? "" : rest);
        }
        return ReasoningSplit.Message(text, reasoning, calls);
    }

    [GeneratedRegex(@"^\s*<think>(.*?)</think>", RegexOptions.Singleline)] private static partial Regex ThinkBlock();
    [GeneratedRegex(@"<\|tool_calls_section_begin\|>(.*?)(?:<\|tool_calls_section_end\|>|$)", RegexOptions.Singleline)] private static partial Regex Section();
    [GeneratedRegex(@"<\|tool_call_begin\|>\s*(functions\.([A-Za-z0-9_.\-]+):\d+)\s*<\|tool_call_argument_begin\|>(.*?)<\|tool_call_end\|>", RegexOptions.Singleline)] private static partial Regex Call();
}
