using System.Text;
using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>Plain ChatML, the template of Whetstone's own zoo models (and of many ChatML models):
/// <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> for every message, roles written as
/// given. That template knows only a message's content, so reasoning and tool calls are written
/// into it the way Qwen models emit them (a leading think block, tool_call blocks after the
/// answer) — which is also what <see cref="ParseResponse"/> reads back.</summary>
public sealed class ChatMlRenderer(HuggingFaceTokenizer tokenizer) : ChatMlFamilyRenderer(tokenizer)
{
    public override SupervisedExample BuildSupervisedExample(IReadOnlyList<ChatMessage> messages, TrainOnWhat trainOn = TrainOnWhat.LastAssistantMessage)
    {
        var segments = new RenderedSegments(Tokenizer);
        var trained = TrainedMessages.Of(messages, trainOn);
        for (int i = 0; i < messages.Count; i++)
        {
            segments.Add($"{Start}{messages[i].Role}\n", 0);
            segments.Add(Content(messages[i]) + End, trained[i] ? 1 : 0);
            segments.Add("\n", 0);
        }
        return segments.ToExample();
    }

    static string Content(ChatMessage m)
    {
        var text = new StringBuilder();
        if (!string.IsNullOrEmpty(m.Reasoning)) text.Append("<think>\n").Append(m.Reasoning.Trim('\n')).Append("\n</think>\n\n");
        text.Append(m.Content);
        foreach (var call in m.ToolCalls ?? [])
        {
            if (text.Length > 0) text.Append('\n');
            text.Append(QwenCompletionParser.FormatToolCall(call));
        }
        return text.ToString();
    }
}
