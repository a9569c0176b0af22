using System.Net.Http.Headers;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Cluster;

/// <summary>See <see cref="IServingGrain"/>. Reentrant: the slot only relays, and concurrent
/// requests must reach the worker together to share its decode batch. The request goes through
/// this silo's in-memory app (<see cref="InMemoryServer"/>) as the gateway's caller, so model
/// resolution (base, checkpoint, deployment and canary), validation, memory, logging and the
/// OpenAI error shapes are the one-process code.</summary>
[BaseModelPlacement, Reentrant]
internal sealed class ServingGrain(ServiceCore core, ILocalSiloDetails silo) : Grain, IServingGrain
{
    /// <summary>The largest body piece sent at once: an SSE event is far smaller, so each flush of
    /// the worker's pipeline is one piece.</summary>
    const int PieceBytes = 16 * 1024;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Stay on this worker while it lives (as a run does): an idle slot collected and placed
        // again elsewhere would only move the load, not help it.
        DelayDeactivation(TimeSpan.FromDays(365));
        return Task.CompletedTask;
    }

    /// <summary>Marks a request relayed here by a gateway: it is served on this process, never
    /// relayed again (a silo that is gateway and worker at once would otherwise loop).</summary>
    public const string Relayed = "whetstone.cluster.relayed";

    public async Task<ServedAnswer> Serve(Caller caller, string route, string body)
    {
        using var client = await ClientAsync(caller);
        using var response = await client.PostAsync(route.TrimStart('/'), Json(body));
        return new ServedAnswer
        {
            Status = (int)response.StatusCode,
            ContentType = response.Content.Headers.ContentType?.ToString(),
            Headers = Relayable(response),
            Body = await response.Content.ReadAsByteArrayAsync(),
        };
    }

    public async IAsyncEnumerable<ServedPart> ServeStream(Caller caller, string route, string body)
    {
        // Cancelled when the enumeration ends for any reason: a gateway that stopped reading (its
        // client left) disposes the enumeration, and the request's rows leave the decode batch.
        using var abort = new CancellationTokenSource();
        try
        {
            using var client = await ClientAsync(caller);
            using var request = new HttpRequestMessage(HttpMethod.Post, route.TrimStart('/')) { Content = Json(body) };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, abort.Token);
            yield return new ServedPart
            {
                Status = (int)response.StatusCode, ContentType = response.Content.Headers.ContentType?.ToString(), Headers = Relayable(response),
            };
            await using var stream = await response.Content.ReadAsStreamAsync(abort.Token);
            var buffer = new byte[PieceBytes];
            int read;
            while ((read = await stream.ReadAsync(buffer, abort.Token)) > 0)
                yield return new ServedPart { Body = buffer[..read] };
        }
        finally
        {
            abort.Cancel();
        }
    }

    public Task<SiloAddress> Where() => Task.FromResult(silo.SiloAddress);

    async Task<HttpClient> ClientAsync(Caller caller)
    {
        var server = await core.InMemoryAsync();
        return new HttpClient(server.CreateHandler(caller, http => http.Items[Relayed] = true))
        {
            BaseAddress = InMemoryServer.BaseAddress, Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    static StringContent Json(string body)
    {
        var content = new StringContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>The headers a gateway passes on: Whetstone's own and Retry-After.</summary>
    static Dictionary<string, string> Relayable(HttpResponseMessage response) => response.Headers.Concat(response.Content.Headers)
        .Where(h => h.Key.StartsWith("Whetstone-", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Retry-After", StringComparison.OrdinalIgnoreCase))
        .ToDictionary(h => h.Key, h => string.Join(",", h.Value));
}
