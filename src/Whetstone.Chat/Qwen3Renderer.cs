using System.Text;
using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>Qwen3's chat template (tokenizer_config.json of the Qwen3 models), written out:
/// <list type="bullet">
/// <item>every turn is <c>&lt;|im_start|&gt;role\n…&lt;|im_end|&gt;\n</c>;</item>
/// <item>assistant turns after the last real user query (a user message that is not a wrapped
/// tool response) carry their reasoning as <c>&lt;think&gt;\n…\n&lt;/think&gt;\n\n</c> before the answer,
/// and the final message always does — with an empty think block when it has no reasoning, as
/// the template writes it; earlier turns drop their reasoning;</item>
/// <item>tool calls follow the answer as <c>&lt;tool_call&gt;\n{"name": …, "arguments": …}\n&lt;/tool_call&gt;</c>,
/// separated by newlines;</item>
/// <item>consecutive tool results share one user turn, each wrapped in &lt;tool_response&gt;.</item>
/// </list>
/// Generation prompts end with <c>&lt;|im_start|&gt;assistant\n</c> (thinking enabled: the model opens
/// its own think block). With tools, the system turn is the template's "# Tools" block (after the
/// caller's system message, if any), each tool as one line of JSON.</summary>
public sealed class Qwen3Renderer(HuggingFaceTokenizer tokenizer) : ChatMlFamilyRenderer(tokenizer), IToolPromptRenderer
{
    const string ToolsPreamble = "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>";
    const string ToolsPostamble = "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>";

    /// <summary>As <see cref="QwenCompletionParser.FormatToolCall"/> writes it.</summary>
    public ToolCallFormat CallFormat { get; } = new("<tool_call>\n{\"name\": ", ", \"arguments\": ", "}\n</tool_call>");

    public IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages, IReadOnlyList<string> toolsJson)
    {
        if (toolsJson.Count == 0) return BuildGenerationPrompt(messages);
        bool leadingSystem = messages.Count > 0 && messages[0].Role == "system";
        var system = new System.Text.StringBuilder($"{Start}system\n");
        if (leadingSystem) system.Append(messages[0].Content).Append("\n\n");
        system.Append(ToolsPreamble);
        foreach (var tool in toolsJson) system.Append('\n').Append(PythonJson.Dumps(tool));
        system.Append(ToolsPostamble).Append(End).Append('\n');
        var tokens = Tokenizer.Encode(system.ToString()).ToList();
        tokens.AddRange(BuildGenerationPrompt(leadingSystem ? messages.Skip(1).ToArray() : messages));
        return tokens;
    }

    public override SupervisedExample BuildSupervisedExample(IReadOnlyList<ChatMessage> messages, TrainOnWhat trainOn = TrainOnWhat.LastAssistantMessage)
    {
        var segments = new RenderedSegments(Tokenizer);
        int lastQuery = LastQueryIndex(messages);
        var trained = TrainedMessages.Of(messages, trainOn);
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            float w = trained[i] ? 1 : 0;
            if (m.Role == "tool")
            {
                bool opensTurn = i == 0 || messages[i - 1].Role != "tool";
                bool closesTurn = i == messages.Count - 1 || messages[i + 1].Role != "tool";
                if (opensTurn) segments.Add($"{Start}user", 0);
                segments.Add($"\n<tool_response>\n{m.Content}\n</tool_response>" + (closesTurn ? End : ""), w);
                if (closesTurn) segments.Add("\n", 0);
                continue;
            }
            segments.Add($"{Start}{m.Role}\n", 0);
            bool withThinkBlock = m.Role == "assistant" && i > lastQuery && (i == messages.Count - 1 || !string.IsNullOrEmpty(m.Reasoning));
            segments.Add(Body(m, withThinkBlock) + End, w);
            segments.Add("\n", 0);
        }
        return segments.ToExample();
    }

    /// <summary>The template's ns.last_query_index: the last user message that is not a wrapped
    /// tool response, or the last message if there is none.</summary>
    static int LastQueryIndex(IReadOnlyList<ChatMessage> messages)
    {
        for (int i = messages.Count - 1; i >= 0; i--)
        {
            var m = messages[i];
            if (m.Role == "user" && !(m.Content.StartsWith("<tool_response>", StringComparison.Ordinal) && m.Content.EndsWith("</tool_response>", StringComparison.Ordinal)))
                return i;
        }
        return messages.Count - 1;
    }

    static string Body(ChatMessage m, bool withThinkBlock)
    {
        var text = new StringBuilder();
        text.Append(withThinkBlock
            ? "<think>\n" + (m.Reasoning ?? "").Trim('\n') + "\n</think>\n\n" + m.Content.TrimStart('\n')
            : m.Content);
        var calls = m.ToolCalls ?? [];
        for (int c = 0; c < calls.Count; c++)
        {
            // The template puts a newline before the first call only when there is an answer.
            if (c > 0 || m.Content.Length > 0) text.Append('\n');
            text.Append(QwenCompletionParser.FormatToolCall(calls[c]));
        }
        return text.ToString();
    }
}
