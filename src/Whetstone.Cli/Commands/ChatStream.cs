using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;

namespace Whetstone.Cli.Commands;

/// <summary>One streamed /v1/chat/completions call: the request with stream=true, and its
/// server-sent events read chunk by chunk, each delta handed on as it arrives. The client SDK
/// has no streaming chat, so this speaks the OpenAI wire format the server documents.</summary>
internal sealed class ChatStream(Uri server, string apiKey) : IDisposable
{
    readonly HttpClient _http = new() { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Streams one answer; returns its whole text and finish reason. A refusal throws
    /// <see cref="ArgumentException"/> naming the status and the request field (param) at fault.</summary>
    public async Task<(string Content, string? FinishReason)> CompleteAsync(ChatCompletionRequest request, Action<string> onDelta, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, Routes.OpenAiChatCompletions)
        {
            Content = new StringContent(JsonSerializer.Serialize(request with { Stream = true }, ProtocolJson.Options), Encoding.UTF8, "application/json"),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode) throw Refusal((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));

        var content = new StringBuilder();
        string? finish = null;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            var data = line["data:".Length..].Trim();
            if (data == "[DONE]") break;
            if (data.Contains("\"error\"", StringComparison.Ordinal) && !data.Contains("\"choices\"", StringComparison.Ordinal))
                throw Refusal(null, data);
            var chunk = JsonSerializer.Deserialize<ChatCompletionChunk>(data, ProtocolJson.Options)!;
            foreach (var choice in chunk.Choices)
            {
                if (choice.Delta.Content is { Length: > 0 } delta)
                {
                    content.Append(delta);
                    onDelta(delta);
                }
                finish = choice.FinishReason ?? finish;
            }
        }
        return (content.ToString(), finish);
    }

    static ArgumentException Refusal(int? status, string body)
    {
        try
        {
            var error = JsonSerializer.Deserialize<OpenAiErrorResponse>(body, ProtocolJson.Options)!.Error;
            var field = error.Param is { } p ? $" (field {p})" : "";
            return new ArgumentException($"{(status is { } s ? $"{s} " : "")}{error.Code ?? error.Type}: {error.Message}{field}");
        }
        catch (JsonException) { return new ArgumentException($"{status} {body}"); }
    }

    public void Dispose() => _http.Dispose();
}
