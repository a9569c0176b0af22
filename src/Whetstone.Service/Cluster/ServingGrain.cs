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
        var server = await core.InMemoryAsync();
        using var client = new HttpClient(server.CreateHandler(caller, http => http.Items[Relayed] = true)) { BaseAddress = InMemoryServer.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var content = new StringContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(route.TrimStart('/'), content);
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(h => h.Key.StartsWith("Whetstone-", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Retry-After", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key, h => string.Join(",", h.Value));
        return new ServedAnswer
        {
            Status = (int)response.StatusCode,
            ContentType = response.Content.Headers.ContentType?.ToString(),
            Headers = headers,
            Body = await response.Content.ReadAsByteArrayAsync(),
        };
    }

    public Task<SiloAddress> Where() => Task.FromResult(silo.SiloAddress);
}
