namespace Whetstone.Client;

/// <summary>
/// The seam between the SDK and a Whetstone server: one request, one typed answer.
/// <see cref="HttpTransport"/> speaks HTTP, to a server over the network or to the service's
/// in-memory server (the same app and routes, without sockets); tests script their own.
/// </summary>
/// <remarks>
/// <para>Paths are those of <see cref="Protocol.Routes"/>, optionally followed by a query string
/// whose values are escaped with <see cref="Uri.EscapeDataString(string)"/>
/// (e.g. <c>/api/v1/futures/r-1?timeout_seconds=30</c>).</para>
/// <para>Bodies and answers are protocol types; on the wire they are JSON written with
/// <see cref="Protocol.ProtocolJson.Options"/>. A request without a body passes <c>null</c>.</para>
/// <para>An answer that is an error (HTTP 4xx/5xx)
/// throws <see cref="WhetstoneApiException"/> carrying the protocol's <see cref="Protocol.ErrorDetail"/>.</para>
/// </remarks>
public interface ITransport
{
    /// <summary>Sends a request and returns its answer, parsed.</summary>
    Task<TResponse> SendAsync<TRequest, TResponse>(HttpMethod method, string path, TRequest? body, CancellationToken cancellationToken);

    /// <summary>Sends a request whose answer carries nothing the caller needs (delete, publish,
    /// TTL); any successful answer, with or without a body, completes the task.</summary>
    Task SendAsync<TRequest>(HttpMethod method, string path, TRequest? body, CancellationToken cancellationToken);

    /// <summary>Opens the raw bytes of a GET answer (checkpoint downloads). The caller disposes
    /// the stream.</summary>
    Task<Stream> DownloadAsync(string path, CancellationToken cancellationToken);
}
