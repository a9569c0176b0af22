using Whetstone.Chat;
using Whetstone.Engine.Sampling;
using Whetstone.Protocol.OpenAi;
using Whetstone.Engine.Worker;

namespace Whetstone.Service.OpenAi;

/// <summary>One choice (sample) of a served request as its tokens arrive: the released text, the
/// chat deltas, the finish reason, and at the end the message the renderer parses.</summary>
internal sealed class CompletionChoice(int index, ChoiceText text, ChatDeltaSplitter? splitter)
{
    public int Index { get; } = index;
    public ChoiceText Text { get; } = text;
    public List<TokenEvent> Events { get; } = [];
    public string? FinishReason { get; set; }
    public ChatMessage? Message { get; private set; }

    /// <summary>Takes one token; returns the stream chunk it makes (null: nothing to show yet).</summary>
    public object? Advance(TokenEvent e, IRenderer? renderer, OpenAiChunks chunks, OpenAiRequest request)
    {
        Events.Add(e);
        string piece = Text.Append(e.Token);
        if (e.Finished is { } reason)
        {
            piece += Text.Finish();
            FinishReason = reason == StopReason.Length ? "length" : "stop";
        }
        var logprob = request.Logprobs && Text.Visible(e.Token) ? e : null;
        if (splitter is null)
            return piece.Length > 0 || logprob is not null || FinishReason is not null ? chunks.TextChunk(Index, piece, logprob, FinishReason) : null;

        var (reasoning, content) = splitter.Append(piece);
        OpenAiToolCall[]? toolCalls = null;
        if (FinishReason is not null)
        {
            Message = renderer!.ParseText(Text.Text);
            var (r, t) = splitter.Finish(Message.Reasoning, Message.Content);
            reasoning += r;
            content += t;
            if (Message.ToolCalls is { Count: > 0 } calls)
            {
                toolCalls = OpenAiChunks.ToolCalls(calls, withIndex: true);
                if (FinishReason == "stop") FinishReason = "tool_calls";
            }
        }
        return reasoning.Length > 0 || content.Length > 0 || logprob is not null || toolCalls is not null || FinishReason is not null
            ? chunks.ChatChunk(Index, reasoning, content, toolCalls, logprob, FinishReason) : null;
    }

    IEnumerable<TokenEvent> VisibleEvents => Events.Where(e => Text.Visible(e.Token));

    public ChatChoice ToChat(OpenAiRequest request, OpenAiChunks chunks) => new(Index, AssistantMessage(), FinishReason)
    {
        Logprobs = request.Logprobs ? new ChatLogprobs(VisibleEvents.Select(chunks.ChatLogprob).ToArray()) : null,
    };

    public TextChoice ToText(OpenAiRequest request, OpenAiChunks chunks) => new(Index, Text.Text, FinishReason)
    {
        Logprobs = request.Logprobs ? chunks.TextLogprobs(VisibleEvents.ToArray()) : null,
    };

    /// <summary>The log's record of the choice: every token, end-of-turn included.</summary>
    public ServedChoice ToServed() => new(Index, Events.Select(e => e.Token).ToArray(), Events.Select(e => e.Logprob).ToArray(), Text.Text, FinishReason)
    {
        Message = Message is null ? null : AssistantMessage(),
    };

    AssistantMessage AssistantMessage() => new(Message!.Content)
    {
        ReasoningContent = Message.Reasoning,
        ToolCalls = Message.ToolCalls is { Count: > 0 } calls ? OpenAiChunks.ToolCalls(calls, withIndex: false) : null,
    };
}
