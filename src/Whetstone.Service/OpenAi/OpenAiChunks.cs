using System.Text;
using Whetstone.Engine.Worker;
using Whetstone.Protocol.OpenAi;
using Whetstone.Tokenization;
using ToolCall = Whetstone.Chat.ToolCall;

namespace Whetstone.Service.OpenAi;

/// <summary>OpenAI's response and stream-chunk records for one request (its id, creation time and
/// model name on every one): logprobs in both endpoints' forms, tool calls.</summary>
internal sealed class OpenAiChunks(string id, OpenAiRequest request, DateTimeOffset created, HuggingFaceTokenizer tokenizer)
{
    readonly long _created = created.ToUnixTimeSeconds();

    /// <summary>The completion's id: on every chunk, in the log, named by feedback.</summary>
    public string Id => id;

    public ChatCompletionChunk ChatRole(int index) =>
        new(id, _created, request.Model, [new ChatChunkChoice(index, new ChatDelta { Role = "assistant", Content = "" }, null)]);

    public ChatCompletionChunk ChatChunk(int index, string reasoning, string content, IReadOnlyList<OpenAiToolCall>? toolCalls, TokenEvent? logprob, string? finishReason)
    {
        var delta = new ChatDelta
        {
            ReasoningContent = reasoning.Length > 0 ? reasoning : null,
            // An empty content is sent only when the chunk carries nothing else (a finish reason, a logprob).
            Content = content.Length > 0 || (reasoning.Length == 0 && toolCalls is null) ? content : null,
            ToolCalls = toolCalls,
        };
        var choice = new ChatChunkChoice(index, delta, finishReason) { Logprobs = logprob is null ? null : new ChatLogprobs([ChatLogprob(logprob)]) };
        return new ChatCompletionChunk(id, _created, request.Model, [choice]);
    }

    public TextCompletion TextChunk(int index, string text, TokenEvent? logprob, string? finishReason) =>
        new(id, _created, request.Model, [new TextChoice(index, text, finishReason) { Logprobs = logprob is null ? null : TextLogprobs([logprob]) }]);

    /// <summary>The last stream event when stream_options.include_usage: no choices, the usage.</summary>
    public object UsageOnly(Usage usage) => request.Chat
        ? new ChatCompletionChunk(id, _created, request.Model, []) { Usage = usage }
        : new TextCompletion(id, _created, request.Model, []) { Usage = usage };

    public ChatCompletion ChatResponse(IReadOnlyList<ChatChoice> choices, Usage usage) => new(id, _created, request.Model, choices, usage);

    public TextCompletion TextResponse(IReadOnlyList<TextChoice> choices, Usage usage) => new(id, _created, request.Model, choices) { Usage = usage };

    /// <summary>Chat's form: the token's text and bytes, with alternatives.</summary>
    public ChatTokenLogprob ChatLogprob(TokenEvent e) =>
        TokenEntry(e.Token, e.Logprob) with { TopLogprobs = e.Top.Select(t => TokenEntry(t.Token, t.Logprob)).ToArray() };

    ChatTokenLogprob TokenEntry(int token, float logprob)
    {
        var bytes = tokenizer.TokenBytes(token, skipSpecialTokens: false) ?? [];
        return new ChatTokenLogprob(Encoding.UTF8.GetString(bytes), logprob, bytes.Select(b => (int)b).ToArray());
    }

    /// <summary>The completions endpoint's (legacy) form: parallel arrays, alternatives as maps.</summary>
    public TextLogprobs TextLogprobs(IReadOnlyList<TokenEvent> events)
    {
        string Text(int token) => Encoding.UTF8.GetString(tokenizer.TokenBytes(token, skipSpecialTokens: false) ?? []);
        var offsets = new List<int>();
        int offset = 0;
        foreach (var e in events) { offsets.Add(offset); offset += Text(e.Token).Length; }
        return new TextLogprobs(
            events.Select(e => Text(e.Token)).ToArray(),
            events.Select(e => e.Logprob).ToArray(),
            events.Select(e =>
            {
                var map = new Dictionary<string, float>();
                foreach (var t in e.Top) map.TryAdd(Text(t.Token), t.Logprob);   // tokens with the same text: the likelier (first) is kept
                return map;
            }).ToArray(),
            offsets);
    }

    public static OpenAiToolCall[] ToolCalls(IReadOnlyList<ToolCall> calls, bool withIndex) => calls.Select((call, i) =>
        new OpenAiToolCall(call.Id ?? $"call_{i}_{Guid.NewGuid():N}"[..24], "function", new OpenAiFunctionCall(call.Name, call.ArgumentsJson))
        {
            Index = withIndex ? i : null,
        }).ToArray();
}
