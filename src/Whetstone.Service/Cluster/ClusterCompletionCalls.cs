using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Orleans;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using Whetstone.Service.OpenAi;
using Whetstone.Service.Runs;
using Whetstone.Service.Serving;

namespace Whetstone.Service.Cluster;

/// <summary>A gateway's /v1/chat/completions and /v1/completions: the request's base model is
/// found from the shared store alone (a base model's name, a sampler checkpoint's run, a
/// deployment's checkpoint; the same 404s as one process for what the caller cannot see), then the
/// request goes to one of that model's serving slots (<see cref="IServingGrain"/>), round robin
/// over as many slots as workers host the model, and the worker's answer is written back as it
/// came. A worker that died makes the call a retryable 503 (worker_unavailable); the next call
/// lands on a surviving worker of the model. Streamed requests are passed on event by event as
/// the worker writes them, with their own failover rule (<see cref="ClusterStreamRelay"/>).</summary>
internal sealed class ClusterCompletionCalls(IGrainFactory grains, ServiceCore core) : ICompletionCalls
{
    const string Scheme = "whet://";
    /// <summary>How long the number of a model's workers is reused before asking the directory again.</summary>
    static readonly TimeSpan SlotsFresh = TimeSpan.FromSeconds(2);

    readonly ConcurrentDictionary<string, (int Slots, DateTime At)> _slots = new();
    /// <summary>Models this gateway has seen hosted: the directory's stored state can be lost with
    /// its silo (memory storage under --cluster localhost), and a model of a dead worker must stay
    /// a retryable 503, not turn into a 404.</summary>
    readonly ConcurrentDictionary<string, bool> _seen = new();
    int _next;

    IBaseModelDirectoryGrain Directory => grains.GetGrain<IBaseModelDirectoryGrain>(0);

    public async Task ServeAsync(HttpContext http, Caller caller, OpenAiRequest request, JsonElement body)
    {
        if (http.Items.ContainsKey(ServingGrain.Relayed))
        {
            await core.Completions.ServeAsync(http, caller, request);
            return;
        }
        string baseModel = await BaseModelOfAsync(caller, request);
        int slots = await SlotsAsync(baseModel, request.Model);
        int slot = (int)((uint)Interlocked.Increment(ref _next) % (uint)slots);
        string route = request.Chat ? Routes.OpenAiChatCompletions : Routes.OpenAiCompletions;
        if (request.Stream)
        {
            await ClusterStreamRelay.RelayAsync(http, caller, request, route, body.GetRawText(),
                attempt => grains.GetGrain<IServingGrain>(ServingKey.Of(baseModel, (slot + attempt) % slots)), () => _slots.TryRemove(baseModel, out _));
            return;
        }
        var grain = grains.GetGrain<IServingGrain>(ServingKey.Of(baseModel, slot));
        var answer = await ClusterRunCalls.CallAsync(() => grain.Serve(caller, route, body.GetRawText()));
        http.Response.StatusCode = answer.Status;
        if (answer.ContentType is not null) http.Response.ContentType = answer.ContentType;
        foreach (var (name, value) in answer.Headers) http.Response.Headers[name] = value;
        await http.Response.Body.WriteAsync(answer.Body, http.RequestAborted);
    }

    /// <summary>The base model that answers <paramref name="request"/>'s model, without loading
    /// anything (the worker resolves it again, fully).</summary>
    async Task<string> BaseModelOfAsync(Caller caller, OpenAiRequest request)
    {
        string model = request.Model, path = model;
        bool checkpoint = model.StartsWith(Scheme, StringComparison.Ordinal);
        if (!checkpoint && !model.Contains('@')) return model;
        if (!checkpoint)
            path = (await core.Deployments.ResolveAsync(caller, model, "model", CanaryRouting.KeysOf(request))).Checkpoint;
        if (!path.StartsWith(Scheme, StringComparison.Ordinal)) throw DeploymentService.ModelNotFound(model);
        try { return (await Checkpoints.ReadableAsync(core.Context, caller, path, "model")).Run.BaseModel; }
        catch (ApiError e) when (e.Status == HttpStatusCode.NotFound) { throw DeploymentService.ModelNotFound(model); }
    }

    /// <summary>How many slots the model has: one per worker hosting it now. None alive: 503 when
    /// some worker hosted it before (they may come back), 404 when none ever did.</summary>
    async Task<int> SlotsAsync(string baseModel, string model)
    {
        if (_slots.TryGetValue(baseModel, out var known) && DateTime.UtcNow - known.At < SlotsFresh) return known.Slots;
        var hosts = await ClusterRunCalls.CallAsync(() => Directory.Hosts(baseModel));
        if (hosts.Length == 0)
        {
            var everHosted = await ClusterRunCalls.CallAsync(() => Directory.Known());
            if (!_seen.ContainsKey(baseModel) && !everHosted.Values.Any(models => models.Contains(baseModel))) throw DeploymentService.ModelNotFound(model);
            throw new ApiError(HttpStatusCode.ServiceUnavailable, "worker_unavailable", $"no live worker hosts base model '{baseModel}' right now; retry shortly");
        }
        _slots[baseModel] = (hosts.Length, DateTime.UtcNow);
        _seen[baseModel] = true;
        return hosts.Length;
    }
}
