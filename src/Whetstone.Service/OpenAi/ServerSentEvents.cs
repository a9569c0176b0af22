using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Whetstone.Service.OpenAi;

/// <summary>An OpenAI stream: `data: {json}` events, each flushed as it is written, ended by
/// `data: [DONE]`. A client that went away makes writes fail; the caller's cancellation (the
/// request's aborted token) has already taken its rows out of the batch.</summary>
internal sealed class ServerSentEvents(HttpContext http)
{
    public async Task StartAsync()
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    public Task SendAsync(JsonObject data) => WriteAsync("data: " + data.ToJsonString() + "\n\n");

    public Task DoneAsync() => WriteAsync("data: [DONE]\n\n");

    async Task WriteAsync(string text)
    {
        if (http.RequestAborted.IsCancellationRequested) return;
        try
        {
            await http.Response.WriteAsync(text, http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
        catch (OperationCanceledException) { }   // the client left; its rows are cancelled by the scheduler
        catch (IOException) { }
    }
}
