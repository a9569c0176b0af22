using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Renderers;

/// <summary>ChatML as Qwen3's chat template writes it:
/// <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> per message; an assistant turn after the
/// last user message carries its reasoning as <c>&lt;think&gt;\n…\n&lt;/think&gt;\n\n</c> before the
/// answer (earlier turns drop it, as the template does); tool calls follow the answer as
/// <c>\n&lt;tool_call&gt;\n{"name": …, "arguments": …}\n&lt;/tool_call&gt;</c>; tool results are user
/// turns wrapped in &lt;tool_response&gt;. The same renderer serves Qwen2.5-style ChatML models
/// (without a default system prompt).</summary>
public sealed partial class Qwen3Renderer(HuggingFaceTokenizer tokenizer) : IRenderer
{
    const string Start = "<|im_start|>", End = "<|im_end|>";

    public IReadOnlyList<int> StopTokenIds { get; } = [tokenizer.TokenToId(End) ?? throw new ArgumentException("the tokenizer has no <|im_end|> token")];

    public SupervisedExample BuildSupervisedExample(IReadOnlyList<ChatMessage> messages, TrainOnWhat trainOn = TrainOnWhat.LastAssistantMessage)
    {
        var segments = new RenderedSegments(tokenizer);
        int lastUser = TrainedMessages.LastIndex(messages, "user");
        var trained = TrainedMessages.Of(messages, trainOn);
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            float w = trained[i] ? 1 : 0;
            if (m.Role == "tool")
            {
                segments.Add($"{Start}user\n<tool_response>\n{m.Content}\n</tool_response>{End}", w);
                segments.Add("\n", 0);
                continue;
            }
            segments.Add($"{Start}{m.Role}\n", 0);
            segments.Add(Body(m, withReasoning: m.Role == "assistant" && i > lastUser) + End, w);
            segments.Add("\n", 0);
        }
        return segments.ToExample();
    }

    public IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages)
    {
        var example = BuildSupervisedExample(messages, TrainOnWhat.AllMessages);
        var tokens = example.Tokens.ToList();
        tokens.AddRange(tokenizer.Encode($"{Start}assistant\n"));
        return tokens;
    }

    static string Body(ChatMessage m, bool withReasoning)
    {
        var text = new StringBuilder();
        if (withReasoning && !string.IsNullOrEmpty(m.Reasoning)) text.Append("<think>\n").Append(m.Reasoning.Trim('\n')).Append("\n</think>\n\n");
        text.Append(m.Content);
        foreach (var call in m.ToolCalls ?? [])
        {
            if (text.Length > 0) text.Append('\n');
            text.Append("<tool_call>\n{\"name\": ").Append(JsonSerializer.Serialize(call.Name))
                .Append(", \"arguments\": ").Append(call.ArgumentsJson).Append("}\n</tool_call>");
        }
        return text.ToString();
    }

    public ChatMessage ParseResponse(IReadOnlyList<int> completion) => ParseText(tokenizer.Decode(completion));

    public ChatMessage ParseText(string text)
    {
        int end = text.IndexOf(End, StringComparison.Ordinal);
        if (end >= 0) text = text[..end];
        string? reasoning = null;
        var think = ThinkBlock().Match(text);
        if (think.Success)
        {
            reasoning = think.Groups[1].Value.Trim('\n');
            text = text.Remove(think.Index, think.Length);
        }
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
        return new ChatMessage("assistant", text.Trim('\n')) { Reasoning = reasoning, ToolCalls = calls.Count > 0 ? calls : null };
    }

    [GeneratedRegex(@"^\s*<think>(.*?)</think>\s*", RegexOptions.Singleline)] private static partial Regex ThinkBlock();
    [GeneratedRegex(@"<tool_call>\s*(.*?)\s*</tool_call>", RegexOptions.Singleline)] private static partial Regex ToolCallBlock();
}
