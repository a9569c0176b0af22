using System.Text.Json;
using System.Text.RegularExpressions;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Runs;
using Whetstone.Service.Scheduling;

namespace Whetstone.Service.Hosting;

/// <summary>The SDK's transport without HTTP: each call goes straight to the same service core
/// the web server uses, as one tenant. Bodies are handed over as objects (a JSON round trip is
/// only made where the types differ), errors surface as the same <see cref="WhetstoneApiException"/>.
/// For tests and single-machine scripts: `new ServiceClient(new InProcessTransport(core))`.</summary>
public sealed partial class InProcessTransport(ServiceCore core, string tenant = "local") : ITransport
{
    readonly Caller _caller = new(tenant, "in-process:" + tenant, IsAdmin: true);

    public async Task<TResponse> SendAsync<TRequest, TResponse>(HttpMethod method, string path, TRequest? body, CancellationToken cancellationToken)
    {
        var result = await DispatchAsync(method, path, body, cancellationToken);
        return result is TResponse typed ? typed
            : JsonSerializer.Deserialize<TResponse>(JsonSerializer.SerializeToUtf8Bytes(result, ProtocolJson.Options), ProtocolJson.Options)!;
    }

    public async Task SendAsync<TRequest>(HttpMethod method, string path, TRequest? body, CancellationToken cancellationToken) =>
        await DispatchAsync(method, path, body, cancellationToken);

    public async Task<Stream> DownloadAsync(string path, CancellationToken cancellationToken)
    {
        var (route, query) = Split(path);
        if (route != Routes.CheckpointDownload) throw Unknown(HttpMethod.Get, path);
        var zip = await Guard(() => core.Checkpoints.DownloadAsync(_caller, Required(query, "path"), query.GetValueOrDefault("format") ?? "peft"));
        return new FileStream(zip, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.DeleteOnClose);
    }

    async Task<object?> DispatchAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var (route, query) = Split(path);
        T Body<T>() => body switch
        {
            T typed => typed,
            null => throw new WhetstoneApiException(System.Net.HttpStatusCode.BadRequest, new ErrorDetail("invalid_json", "a request body is required") { Field = "body" }),
            _ => JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(body, ProtocolJson.Options), ProtocolJson.Options)!,
        };
        var runs = core.Runs;
        var get = method == HttpMethod.Get;
        var post = method == HttpMethod.Post;
        return await Guard<object?>(async () =>
        {
            if (post && route == Routes.TrainingRuns) return await runs.CreateAsync(_caller, Body<CreateTrainingRunRequest>());
            if (post && route == Routes.TrainingRunsFromState) return await runs.CreateFromStateAsync(_caller, Body<CreateTrainingRunFromStateRequest>());
            if (post && route == Routes.TrainingRunsImportPeft) return await runs.ImportPeftAsync(_caller, Body<ImportPeftAdapterRequest>());
            if (get && route == Routes.Metrics) return core.Context.Metrics();
            if (get && route == Routes.TrainingRuns) return new TrainingRunList(await runs.ListAsync(_caller));
            if (post && route == Routes.SamplingSessions) return await core.Sessions.CreateAsync(_caller, Body<CreateSamplingSessionRequest>());
            if (get && route == Routes.Usage) return await core.Checkpoints.KeyUsageAsync(_caller);
            if (get && route == Routes.Checkpoints) return await core.Checkpoints.GetAsync(_caller, Required(query, "path"));
            if (method == HttpMethod.Delete && route == Routes.Checkpoints) { await core.Checkpoints.DeleteAsync(_caller, Required(query, "path")); return null; }
            if (post && route == Routes.CheckpointPublish) return await core.Checkpoints.SetPublishedAsync(_caller, Required(query, "path"), true);
            if (post && route == Routes.CheckpointUnpublish) return await core.Checkpoints.SetPublishedAsync(_caller, Required(query, "path"), false);
            if (post && route == Routes.CheckpointTtl) return await core.Checkpoints.SetTtlAsync(_caller, Required(query, "path"), Body<SetCheckpointTtlRequest>());
            if (get && route == Routes.Health) return new HealthResponse("ok", core.Context.Models.Names.ToArray());

            if (FutureRoute().Match(route) is { Success: true } future)
            {
                double seconds = query.TryGetValue("timeout_seconds", out var t) && double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 30;
                return await core.Context.Futures.WaitAsync(future.Groups[1].Value, _caller, TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 300)), cancellationToken);
            }
            if (RunRoute().Match(route) is { Success: true } run)
            {
                string id = run.Groups[1].Value, action = run.Groups[2].Value;
                return (action, get) switch
                {
                    ("", true) => await runs.InfoAsync(_caller, id),
                    ("/forward", false) => await runs.ForwardAsync(_caller, id, Body<ForwardBackwardRequest>(), backward: false),
                    ("/forward_backward", false) => await runs.ForwardAsync(_caller, id, Body<ForwardBackwardRequest>(), backward: true),
                    ("/optim_step", false) => await runs.OptimStepAsync(_caller, id, Body<OptimStepRequest>()),
                    ("/score", false) => await runs.ScoreAsync(_caller, id, Body<ScoreRequest>()),
                    ("/save_state", false) => await runs.SaveAsync(_caller, id, Body<SaveStateRequest>(), CheckpointPath.Weights),
                    ("/save_weights_for_sampler", false) => await runs.SaveAsync(_caller, id, Body<SaveStateRequest>(), CheckpointPath.SamplerWeights),
                    ("/load_state", false) => await runs.LoadStateAsync(_caller, id, Body<LoadStateRequest>()),
                    ("/checkpoints", true) => await core.Checkpoints.ListAsync(_caller, id),
                    ("/usage", true) => await core.Checkpoints.RunUsageAsync(_caller, id),
                    _ => throw Unknown(method, path),
                };
            }
            if (SessionRoute().Match(route) is { Success: true } session && post)
            {
                string id = session.Groups[1].Value;
                return session.Groups[2].Value == "sample"
                    ? await core.Sessions.SampleAsync(_caller, id, Body<SampleRequest>())
                    : await core.Sessions.ComputeLogprobsAsync(_caller, id, Body<ComputeLogprobsRequest>());
            }
            if (ClosedSessionRoute().Match(route) is { Success: true } closed && method == HttpMethod.Delete)
            {
                await core.Sessions.CloseAsync(_caller, closed.Groups[1].Value);
                return null;
            }
            throw Unknown(method, path);
        });
    }

    static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try { return await action(); }
        catch (Exception e) when (e is not WhetstoneApiException)
        {
            throw new WhetstoneApiException(RequestFutures.StatusOf(e), RequestFutures.Describe(e));
        }
    }

    static (string Route, Dictionary<string, string> Query) Split(string path)
    {
        int q = path.IndexOf('?');
        var query = new Dictionary<string, string>();
        if (q >= 0)
            foreach (var pair in path[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = pair.Split('=', 2);
                query[Uri.UnescapeDataString(kv[0])] = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            }
        return (q >= 0 ? path[..q] : path, query);
    }

    static string Required(Dictionary<string, string> query, string name) =>
        query.TryGetValue(name, out var v) ? v : throw ApiError.BadRequest(name, "is required");

    static WhetstoneApiException Unknown(HttpMethod method, string path) =>
        new(System.Net.HttpStatusCode.NotFound, new ErrorDetail("not_found", $"no route {method} {path}"));

    [GeneratedRegex(@"^/api/v1/futures/([^/]+)$")] private static partial Regex FutureRoute();
    [GeneratedRegex(@"^/api/v1/training_runs/([^/]+)(|/forward|/forward_backward|/optim_step|/score|/save_state|/save_weights_for_sampler|/load_state|/checkpoints|/usage)$")] private static partial Regex RunRoute();
    [GeneratedRegex(@"^/api/v1/sampling_sessions/([^/]+)/(sample|compute_logprobs)$")] private static partial Regex SessionRoute();
    [GeneratedRegex(@"^/api/v1/sampling_sessions/([^/]+)$")] private static partial Regex ClosedSessionRoute();
}
