using System.Text;
using Whetstone.Tokenization;

namespace Whetstone.Chat;

/// <summary>Kimi K2 Thinking's chat template (tokenizer_config.json / chat_template.jinja of
/// moonshotai/Kimi-K2-Thinking), written out:
/// <list type="bullet">
/// <item>turns are <c>&lt;|im_user|&gt;user&lt;|im_middle|&gt;…&lt;|im_end|&gt;</c>, <c>&lt;|im_assistant|&gt;assistant…</c>,
/// and <c>&lt;|im_system|&gt;system…</c> or <c>&lt;|im_system|&gt;tool…</c>, with nothing between turns;</item>
/// <item>without a leading system message the template's own one comes first;</item>
/// <item>tools are declared first, as <c>&lt;|im_system|&gt;tool_declare&lt;|im_middle|&gt;[…]&lt;|im_end|&gt;</c>
/// (the list through tojson);</item>
/// <item>every assistant turn opens with a think block: empty up to and including the last
/// assistant message without tool calls, carrying <see cref="ChatMessage.Reasoning"/> after it (the
/// agentic turn in progress keeps its reasoning);</item>
/// <item>calls follow the answer in <c>&lt;|tool_calls_section_begin|&gt;</c>, each
/// <c>&lt;|tool_call_begin|&gt;ID&lt;|tool_call_argument_begin|&gt;ARGS&lt;|tool_call_end|&gt;</c>;</item>
/// <item>a tool result is <c>## Return of ID\n</c> and its content.</item>
/// </list>
/// Ids: a call's <see cref="ToolCall.Id"/>, or <c>functions.NAME:N</c> numbered through the
/// conversation; a result's <see cref="ChatMessage.ToolCallId"/>, or the oldest call not yet
/// answered — the fallbacks of the template's llama.cpp copy, which the published one lacks (it
/// needs the ids).</summary>
public sealed class KimiK2Renderer : IToolPromptRenderer
{
    const string System = "<|im_system|>", User = "<|im_user|>", Assistant = "<|im_assistant|>", Middle = "<|im_middle|>", End = "<|im_end|>";
    const string SectionBegin = "<|tool_calls_section_begin|>", SectionEnd = "<|tool_calls_section_end|>";
    const string CallBegin = "<|tool_call_begin|>", ArgumentBegin = "<|tool_call_argument_begin|>", CallEnd = "<|tool_call_end|>";
    public const string DefaultSystemPrompt = "You are Kimi, an AI assistant created by Moonshot AI.";

    readonly HuggingFaceTokenizer _tokenizer;

    public KimiK2Renderer(HuggingFaceTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        StopTokenIds = [tokenizer.TokenToId(End) ?? throw new ArgumentException("the tokenizer has no <|im_end|> token")];
    }

    public IReadOnlyList<int> StopTokenIds { get; }

    /// <summary>One forced call: the section, one call numbered 0, the arguments, the section's end.</summary>
    public ToolCallFormat CallFormat { get; } = new(SectionBegin + CallBegin + "functions.", ":0" + ArgumentBegin, CallEnd + SectionEnd) { NameAsJsonString = false };

    public SupervisedExample BuildSupervisedExample(IReadOnlyList<ChatMessage> messages, TrainOnWhat trainOn = TrainOnWhat.LastAssistantMessage) =>
        Render(messages, [], trainOn).ToExample();

    public IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages) => BuildGenerationPrompt(messages, []);

    public IReadOnlyList<int> BuildGenerationPrompt(IReadOnlyList<ChatMessage> messages, IReadOnlyList<string> toolsJson)
    {
        var segments = Render(messages, toolsJson, TrainOnWhat.AllMessages);
        segments.Add($"{Assistant}assistant{Middle}", 0);
        return segments.Tokens.ToArray();
    }

    RenderedSegments Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<string> toolsJson, TrainOnWhat trainOn)
    {
        var segments = new RenderedSegments(_tokenizer);
        if (toolsJson.Count > 0)
            segments.Add($"{System}tool_declare{Middle}[{string.Join(", ", toolsJson.Select(t => PythonJson.Dumps(t)))}]{End}", 0);
        if (messages.Count == 0 || messages[0].Role != "system")
            segments.Add($"{System}system{Middle}{DefaultSystemPrompt}{End}", 0);

        int history = LastAssistantWithoutCalls(messages);
        var trained = TrainedMessages.Of(messages, trainOn);
        var unanswered = new Queue<string>();
        int callNumber = 0;
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            segments.Add(Header(m.Role), 0);
            var body = new StringBuilder();
            if (m.Role == "assistant")
            {
                body.Append("<think>").Append(i > history ? m.Reasoning ?? "" : "").Append("</think>").Append(m.Content);
                if (m.ToolCalls is { Count: > 0 } calls)
                {
                    body.Append(SectionBegin);
                    foreach (var call in calls)
                    {
                        string id = call.Id ?? $"functions.{call.Name}:{callNumber++}";
                        unanswered.Enqueue(id);
                        body.Append(CallBegin).Append(id).Append(ArgumentBegin).Append(call.ArgumentsJson).Append(CallEnd);
                    }
                    body.Append(SectionEnd);
                }
            }
            else if (m.Role == "tool")
            {
                unanswered.TryDequeue(out string? oldest);
                string id = m.ToolCallId ?? oldest ?? $"functions.unknown:{callNumber}";
                body.Append("## Return of ").Append(id).Append('\n').Append(m.Content);
            }
            else body.Append(m.Content);
            segments.Add(body.Append(End).ToString(), trained[i] ? 1 : 0);
        }
        return segments;
    }

    static string Header(string role) => role switch
    {
        "user" => $"{User}user{Middle}",
        "assistant" => $"{Assistant}assistant{Middle}",
        _ => $"{System}{role}{Middle}",
    };

    /// <summary>The template's last_non_tool_call_assistant_msg (−1 when there is none).</summary>
    static int LastAssistantWithoutCalls(IReadOnlyList<ChatMessage> messages)
    {
        for (int i = messages.Count - 1; i >= 0; i--)
            if (messages[i].Role == "assistant" && messages[i].ToolCalls is not { Count: > 0 }) return i;
        return -1;
    }

    public ChatMessage ParseResponse(IReadOnlyList<int> completion) => ParseText(_tokenizer.Decode(completion));

    public ChatMessage ParseText(string text) => KimiCompletionParser.Parse(text, End);
}
