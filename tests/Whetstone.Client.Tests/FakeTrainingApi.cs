using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;

namespace Whetstone.Client.Tests;

/// <summary>
/// Answers like the training API, minimally: creating a run or a sampling session answers its
/// info, every other POST is accepted with request id "&lt;last path segment&gt;-&lt;request index&gt;"
/// (e.g. "forward_backward-2"), and a future is done at once with whatever
/// <c>resultOf(requestId)</c> gives.
/// </summary>
internal static class FakeTrainingApi
{
    public static readonly TrainingRunInfo Run = new("run-1", "tiny-llama");

    public static Task<ScriptedServer> StartAsync(Func<string, object> resultOf, Func<RecordedRequest, HttpContext, Task>? before = null) =>
        ScriptedServer.StartAsync(async (request, context) =>
        {
            if (before is not null)
                await before(request, context);
            await Answer(request, context, resultOf);
        });

    static Task Answer(RecordedRequest request, HttpContext context, Func<string, object> resultOf)
    {
        const string futures = Routes.Prefix + "/futures/";
        if (request.Method == "POST" && (request.Path == Routes.TrainingRuns || request.Path == Routes.TrainingRunsFromState))
            return ScriptedServer.Json(context, Run);
        if (request.Method == "POST" && request.Path == Routes.SamplingSessions)
            return ScriptedServer.Json(context, new SamplingSessionInfo("session-1", "tiny-llama", null));
        if (request.Method == "GET" && request.Path.StartsWith(futures, StringComparison.Ordinal))
        {
            var requestId = request.Path[futures.Length..];
            return ScriptedServer.DoneFuture(context, requestId, resultOf(requestId));
        }
        if (request.Method == "POST")
            return ScriptedServer.Json(context, new UntypedFuture($"{request.Path.Split('/')[^1]}-{request.Index}"));
        return ScriptedServer.Error(context, 404, "not_found", $"No route {request.Method} {request.Path}.");
    }

    /// <summary>"POST /api/v1/…" for each request, to assert the order of calls.</summary>
    public static string[] Calls(ScriptedServer server) =>
        server.Requests.Select(r => $"{r.Method} {r.Path}").ToArray();
}
