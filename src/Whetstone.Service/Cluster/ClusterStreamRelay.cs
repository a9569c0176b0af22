using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;
using Whetstone.Protocol.OpenAi;
using Whetstone.Service.Auth;
using Whetstone.Service.OpenAi;

namespace Whetstone.Service.Cluster;

/// <summary>A gateway's streamed /v1 answer (<c>stream: true</c>): the worker's SSE events are
/// passed on as its pipeline flushes them (<see cref="IServingGrain.ServeStream"/>), so the client
/// sees each token's chunk while the worker decodes the next.</summary>
/// <remarks>Failover, by how far the answer had come when the worker failed:
/// <list type="bullet">
/// <item>Before the first token's chunk: nothing was sent to the client, and the worker had
/// logged nothing (the completion log row is written after the last token), so the request is
/// sent again to the model's next serving slot, up to <see cref="Attempts"/> times in all, then
/// answered 503 worker_unavailable (retryable). A chat's role chunks, which the worker sends before
/// decoding, are held back with the head until that first token's chunk.</item>
/// <item>After it: the tokens already sent cannot be taken back, and another worker would not
/// continue the same sample, so the stream ends with an OpenAI error event (code worker_lost,
/// type server_error) and no <c>[DONE]</c>; the client sends the request again.</item>
/// </list>
/// An answer that is not a stream (the worker refused the request: 4xx) is passed on whole.</remarks>
internal static class ClusterStreamRelay
{
    public const int Attempts = 3;
    static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(5);

    /// <param name="slot">The serving slot of an attempt (0, 1, …): the next slot on each retry.</param>
    /// <param name="failed">Called when an attempt failed before its first token (e.g. to forget the
    /// cached count of the model's workers).</param>
    public static async Task RelayAsync(HttpContext http, Caller caller, OpenAiRequest request, string route, string body,
        Func<int, IServingGrain> slot, Action failed)
    {
        var aborted = http.RequestAborted;
        // The role chunk of each choice comes before any token (chat only).
        int leadingEvents = request.Chat ? request.N : 0;
        for (int attempt = 0; ; attempt++)
        {
            var parts = slot(attempt).ServeStream(caller, route, body).GetAsyncEnumerator(aborted);
            try
            {
                Held held;
                try { held = await HoldUntilFirstTokenAsync(parts, leadingEvents); }
                catch (Exception e) when (!aborted.IsCancellationRequested)
                {
                    failed();
                    if (attempt + 1 < Attempts)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(500 * (attempt + 1)), aborted);
                        continue;
                    }
                    throw new ApiError(HttpStatusCode.ServiceUnavailable, "worker_unavailable",
                        $"no worker could start the streamed answer after {Attempts} attempts ({e.GetType().Name}: {e.Message}); retry shortly");
                }
                http.Response.StatusCode = held.Head.Status;
                if (held.Head.ContentType is not null) http.Response.ContentType = held.Head.ContentType;
                foreach (var (name, value) in held.Head.Headers ?? []) http.Response.Headers[name] = value;
                foreach (var piece in held.Body) await http.Response.Body.WriteAsync(piece, aborted);
                await http.Response.Body.FlushAsync(aborted);
                if (!held.Ended) await PassOnAsync(http, parts);
                return;
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return;   // the client left; disposing the enumeration cancels the request on the worker
            }
            finally
            {
                try { await parts.DisposeAsync().AsTask().WaitAsync(DisposeWait); }
                catch (Exception) { }   // its worker is gone: nothing is left there to cancel
            }
        }
    }

    sealed record Held(ServedPart Head, List<byte[]> Body, bool Ended);

    /// <summary>The head and the body up to and including the first event after the leading ones
    /// (the first token's chunk), or the whole answer when it ends sooner or is not a stream.</summary>
    static async Task<Held> HoldUntilFirstTokenAsync(IAsyncEnumerator<ServedPart> parts, int leadingEvents)
    {
        if (!await parts.MoveNextAsync()) throw new InvalidOperationException("the worker's answer ended before its head");
        var head = parts.Current;
        var body = new List<byte[]>();
        var events = new EventCounter();
        while (head.Status != StatusCodes.Status200OK || events.Count <= leadingEvents)
        {
            if (!await parts.MoveNextAsync()) return new Held(head, body, Ended: true);
            body.Add(parts.Current.Body);
            events.Add(parts.Current.Body);
        }
        return new Held(head, body, Ended: false);
    }

    /// <summary>The rest of the stream, each piece flushed as it comes. A worker that fails now ends
    /// the stream with an error event.</summary>
    static async Task PassOnAsync(HttpContext http, IAsyncEnumerator<ServedPart> parts)
    {
        var aborted = http.RequestAborted;
        var events = new EventCounter();
        try
        {
            while (await parts.MoveNextAsync())
            {
                events.Add(parts.Current.Body);
                await http.Response.Body.WriteAsync(parts.Current.Body, aborted);
                await http.Response.Body.FlushAsync(aborted);
            }
        }
        catch (Exception e) when (!aborted.IsCancellationRequested)
        {
            var error = new OpenAiErrorResponse(new OpenAiError(
                $"the worker answering this stream stopped after {events.Count} more events ({e.GetType().Name}); the answer is incomplete: send the request again",
                "server_error", null, WorkerLost)) { Title = "server_error", Status = StatusCodes.Status503ServiceUnavailable };
            await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(error, ProtocolJson.Options) + "\n\n", aborted);
            await http.Response.Body.FlushAsync(aborted);
        }
    }

    /// <summary>The error code of a stream cut by its worker's death.</summary>
    public const string WorkerLost = "worker_lost";

    /// <summary>Counts SSE events (each ends with a blank line) over pieces that may split them.</summary>
    sealed class EventCounter
    {
        bool _afterNewline;
        public int Count { get; private set; }

        public void Add(byte[] piece)
        {
            foreach (byte b in piece)
            {
                if (b == (byte)'\n')
                {
                    if (_afterNewline) Count++;
                    _afterNewline = !_afterNewline;
                }
                else if (b != (byte)'\r') _afterNewline = false;
            }
        }
    }
}
