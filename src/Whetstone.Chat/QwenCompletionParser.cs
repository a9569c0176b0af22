using System.Text.Json;
using System.Text.RegularExpressions;
using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>Reads a ChatML completion the way Qwen models write it: an optional leading
/// <c>&lt;think&gt;…&lt;/think&gt;</c> block (the reasoning), the answer, and
/// <c>&lt;tool_call&gt;{"name": …, "arguments": …}&lt;/tool_call&gt;</c> blocks. A block whose JSON does
/// not parse as a call stays in the text, so nothing the model wrote is lost.</summary>
internal static partial class QwenCompletionParser
{
    public static ChatMessage Parse(HuggingFaceTokenizer tokenizer, IReadOnlyList<int> completion, string endToken) =>
        ParseText(tokenizer.Decode(completion), endToken);

    /// <summary>The same from text already decoded (the OpenAI API's, cut at the caller's stop strings).</summary>
    public static ChatMessage ParseText(string text, string endToken)
    {
        (text, string? reasoning) = ReasoningSplit.Split(text, endToken, ThinkBlock());
        var calls = new List<ToolCall>();
        foreach (Match call in ToolCallBlock().Matches(text))
        {
            try
            {
                using var json = JsonDocument.Parse(call.Groups[1].Value);
                calls.Add(new ToolCall(json.RootElement.GetProperty("name").GetString()!, json.RootElement.GetProperty("arguments").GetRawText()));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { continue; }   // not a call: left as text
            text = text.Replace(call.Value, "");
        }
        return ReasoningSplit.Message(text, reasoning, calls);
    }

    /// <summary>A call as Qwen writes it inside an assistant turn.</summary>
    public static string FormatToolCall(ToolCall call) =>
        "<tool_call>\n{\"name\": \"" + call.Name + "\", \"arguments\": " + call.ArgumentsJson + "}\n</tool_call>";

    [GeneratedRegex(@"^\s*<think>(.*?)</think>\s*", RegexOptions.Singleline)] private static partial Regex ThinkBlock();
    [GeneratedRegex(@"<tool_call>\s*(.*?)\s*</tool_call>", RegexOptions.Singleline)] private static partial Regex ToolCallBlock();
}
