using System.Text;
using System.Text.Json;
using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>Llama 3.1 Instruct's JSON tool calling, as its chat template writes it (custom tools
/// in the first user message): a system turn opening with "Environment: ipython" and the knowledge
/// and today dates; the first user turn listing each tool as indented JSON before the question;
/// an assistant call written as <c>{"name": …, "parameters": …}</c>; a tool result as an
/// <c>ipython</c> turn. A completion that is exactly such an object reads back as a call.</summary>
internal static class Llama3ToolCalls
{
    const string HeaderStart = "<|start_header_id|>", HeaderEnd = "<|end_header_id|>", EndOfTurn = "<|eot_id|>";
    /// <summary>The template's default date_string (callers of apply_chat_template rarely set it).</summary>
    const string TodayDate = "26 Jul 2024";

    public static IReadOnlyList<int> Prompt(HuggingFaceTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, IReadOnlyList<string> toolsJson)
    {
        var rest = messages.ToList();
        string system = "";
        if (rest.Count > 0 && rest[0].Role == "system") { system = rest[0].Content.Trim(); rest.RemoveAt(0); }
        if (rest.Count == 0 || rest[0].Role != "user")
            throw new ArgumentException("Llama 3 puts tool definitions in the first user message: the conversation needs one");
        var text = new StringBuilder("<|begin_of_text|>");
        text.Append($"{HeaderStart}system{HeaderEnd}\n\nEnvironment: ipython\nCutting Knowledge Date: December 2023\nToday Date: {TodayDate}\n\n{system}{EndOfTurn}");
        text.Append($"{HeaderStart}user{HeaderEnd}\n\n");
        text.Append("Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\n");
        text.Append("Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n");
        foreach (var tool in toolsJson) text.Append(PythonJson.Dumps(tool, indent: 4)).Append("\n\n");
        text.Append(rest[0].Content.Trim()).Append(EndOfTurn);
        foreach (var m in rest.Skip(1))
        {
            if (m.ToolCalls is { Count: > 0 } calls)
            {
                if (calls.Count != 1) throw new ArgumentException("Llama 3 writes one tool call per assistant turn");
                text.Append($"{HeaderStart}assistant{HeaderEnd}\n\n{{\"name\": \"{calls[0].Name}\", \"parameters\": {PythonJson.Dumps(calls[0].ArgumentsJson)}}}{EndOfTurn}");
            }
            else if (m.Role == "tool") text.Append($"{HeaderStart}ipython{HeaderEnd}\n\n{m.Content}{EndOfTurn}");
            else text.Append($"{HeaderStart}{m.Role}{HeaderEnd}\n\n{m.Content.Trim()}{EndOfTurn}");
        }
        text.Append($"{HeaderStart}assistant{HeaderEnd}\n\n");
        return tokenizer.Encode(text.ToString());
    }

    /// <summary>The call in a completion that is one JSON object with a string "name" and an object
    /// "parameters" (or "arguments"); null for anything else.</summary>
    public static ToolCall? Parse(string content)
    {
        var trimmed = content.Trim();
        if (!trimmed.StartsWith('{') || !trimmed.EndsWith('}')) return null;
        try
        {
            using var json = JsonDocument.Parse(trimmed);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String) return null;
            if (!root.TryGetProperty("parameters", out var arguments) && !root.TryGetProperty("arguments", out arguments)) return null;
            return arguments.ValueKind == JsonValueKind.Object ? new ToolCall(name.GetString()!, arguments.GetRawText()) : null;
        }
        catch (JsonException) { return null; }
    }
}
