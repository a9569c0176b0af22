using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;

namespace Whetstone.Service.OpenAi;

/// <summary>An OpenAI stream: `data: {json}` events, each flushed as it is written, ended by
/// `data: [DONE]`. A client that went away makes writes fail; the caller's cancellation (the
/// request's aborted token) has already taken its rows out of the batch.</summary>
internal sealed class ServerSentEvents
{
    readonly HttpContext _http;

    ServerSentEvents(HttpContext http) => _http = http;

    public static async Task<ServerSentEvents> StartAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.Body.FlushAsync(http.RequestAborted);
        return new ServerSentEvents(http);
    }

    /// <summary>One chunk, written as its runtime type (a chat or a text chunk) in the protocol's JSON.</summary>
    public Task SendAsync(object chunk) => WriteAsync("data: " + JsonSerializer.Serialize(chunk, chunk.GetType(), ProtocolJson.Options) + "\n\n");

    public Task DoneAsync() => WriteAsync("data: [DONE]\n\n");

    async Task WriteAsync(string text)
    {
        if (_http.RequestAborted.IsCancellationRequested) return;
        try
        {
            await _http.Response.WriteAsync(text, _http.RequestAborted);
            await _http.Response.Body.FlushAsync(_http.RequestAborted);
        }
        catch (OperationCanceledException) { }   // the client left; its rows are cancelled by the scheduler
        catch (IOException) { }
    }
}
