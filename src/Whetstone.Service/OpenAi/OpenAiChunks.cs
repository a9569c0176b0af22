using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Chat;
using Whetstone.Service.Scheduling;
using Whetstone.Tokenization;

namespace Whetstone.Service.OpenAi;

/// <summary>OpenAI's response and stream-chunk shapes for one request (its id, creation time
/// and model name on every object): text_completion, chat.completion and chat.completion.chunk,
/// logprobs in both endpoints' forms, tool calls.</summary>
internal sealed class OpenAiChunks(string id, OpenAiRequest request, DateTimeOffset created, HuggingFaceTokenizer tokenizer)
{
    readonly long _created = created.ToUnixTimeSeconds();

    JsonObject Envelope(string kind, JsonArray choices) => new()
    {
        ["id"] = id, ["object"] = kind, ["created"] = _created, ["model"] = request.Model, ["choices"] = choices,
    };

    public JsonObject ChatRole(int index) => Envelope("chat.completion.chunk", [new JsonObject
    {
        ["index"] = index, ["delta"] = new JsonObject { ["role"] = "assistant", ["content"] = "" }, ["finish_reason"] = null,
    }]);

    public JsonObject ChatChunk(int index, string reasoning, string content, JsonArray? toolCalls, TokenEvent? logprob, string? finishReason)
    {
        var delta = new JsonObject();
        if (reasoning.Length > 0) delta["reasoning_content"] = reasoning;
        if (content.Length > 0 || (reasoning.Length == 0 && toolCalls is null)) delta["content"] = content;
        if (toolCalls is not null) delta["tool_calls"] = toolCalls;
        var choice = new JsonObject { ["index"] = index, ["delta"] = delta, ["finish_reason"] = finishReason };
        if (logprob is not null) choice["logprobs"] = new JsonObject { ["content"] = new JsonArray(ChatLogprob(logprob)) };
        return Envelope("chat.completion.chunk", [choice]);
    }

    public JsonObject TextChunk(int index, string text, TokenEvent? logprob, string? finishReason) => Envelope("text_completion", [new JsonObject
    {
        ["index"] = index, ["text"] = text, ["finish_reason"] = finishReason,
        ["logprobs"] = logprob is null ? null : TextLogprobs([logprob]),
    }]);

    /// <summary>The last stream event when stream_options.include_usage: no choices, the usage.</summary>
    public JsonObject UsageOnly(JsonObject usage)
    {
        var chunk = Envelope(request.Chat ? "chat.completion.chunk" : "text_completion", []);
        chunk["usage"] = usage;
        return chunk;
    }

    public JsonObject ChatResponse(JsonObject[] choices, JsonObject usage)
    {
        var body = Envelope("chat.completion", new JsonArray(choices.Select(c => (JsonNode)c).ToArray()));
        body["usage"] = usage;
        return body;
    }

    public JsonObject TextResponse(JsonObject[] choices, JsonObject usage)
    {
        var body = Envelope("text_completion", new JsonArray(choices.Select(c => (JsonNode)c).ToArray()));
        body["usage"] = usage;
        return body;
    }

    /// <summary>Chat's form: the token's text and bytes (a token may hold part of a character:
    /// its bytes are exact, its text has U+FFFD where the character is cut), with alternatives.</summary>
    public JsonObject ChatLogprob(TokenEvent e)
    {
        var entry = TokenEntry(e.Token, e.Logprob);
        entry["top_logprobs"] = new JsonArray(e.Top.Select(t => (JsonNode)TokenEntry(t.Token, t.Logprob)).ToArray());
        return entry;
    }

    JsonObject TokenEntry(int token, float logprob)
    {
        var bytes = tokenizer.TokenBytes(token, skipSpecialTokens: false) ?? [];
        return new JsonObject
        {
            ["token"] = Encoding.UTF8.GetString(bytes), ["logprob"] = logprob,
            ["bytes"] = new JsonArray(bytes.Select(b => (JsonNode)(int)b).ToArray()),
        };
    }

    /// <summary>The completions endpoint's (legacy) form: parallel arrays, alternatives as maps.</summary>
    public JsonObject TextLogprobs(IReadOnlyList<TokenEvent> events)
    {
        string Text(int token) => Encoding.UTF8.GetString(tokenizer.TokenBytes(token, skipSpecialTokens: false) ?? []);
        var offsets = new JsonArray();
        int offset = 0;
        foreach (var e in events) { offsets.Add(offset); offset += Text(e.Token).Length; }
        return new JsonObject
        {
            ["tokens"] = new JsonArray(events.Select(e => (JsonNode)Text(e.Token)).ToArray()),
            ["token_logprobs"] = new JsonArray(events.Select(e => (JsonNode)e.Logprob).ToArray()),
            ["top_logprobs"] = new JsonArray(events.Select(e =>
            {
                var map = new JsonObject();
                foreach (var t in e.Top) map.TryAdd(Text(t.Token), t.Logprob);   // tokens with the same text: the likelier (first) is kept
                return (JsonNode)map;
            }).ToArray()),
            ["text_offset"] = offsets,
        };
    }

    public static JsonArray ToolCalls(IReadOnlyList<ToolCall> calls, bool withIndex) => new(calls.Select((call, i) =>
    {
        var node = new JsonObject
        {
            ["id"] = $"call_{i}_{Guid.NewGuid():N}"[..24], ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.ArgumentsJson },
        };
        if (withIndex) node["index"] = i;
        return (JsonNode)node;
    }).ToArray());
}
