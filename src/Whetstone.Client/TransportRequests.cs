namespace Whetstone.Client;

/// <summary>The two request shapes the clients use most, spelled once.</summary>
internal static class TransportRequests
{
    public static Task<TResponse> GetAsync<TResponse>(this ITransport transport, string path, CancellationToken cancellationToken) =>
        transport.SendAsync<object, TResponse>(HttpMethod.Get, path, null, cancellationToken);

    public static Task<TResponse> PostAsync<TRequest, TResponse>(this ITransport transport, string path, TRequest body, CancellationToken cancellationToken) =>
        transport.SendAsync<TRequest, TResponse>(HttpMethod.Post, path, body, cancellationToken);
}
