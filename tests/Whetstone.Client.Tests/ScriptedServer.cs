using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Whetstone.Protocol;

namespace Whetstone.Client.Tests;

/// <summary>What the server received.</summary>
public sealed record RecordedRequest(int Index, string Method, string Path, string Query, string? Authorization, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A real HTTP server on a loopback port whose every answer is written by the test: the
/// handler sees each request (recorded, with its body) and writes the response, or aborts
/// the connection to simulate a network failure.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ConcurrentQueue<RecordedRequest> _requests = new();
    int _count;

    ScriptedServer(Func<RecordedRequest, HttpContext, Task> handle)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var recorded = new RecordedRequest(Interlocked.Increment(ref _count), context.Request.Method,
                context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "",
                context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null, body);
            _requests.Enqueue(recorded);
            await handle(recorded, context);
        });
    }

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public static async Task<ScriptedServer> StartAsync(Func<RecordedRequest, HttpContext, Task> handle)
    {
        var server = new ScriptedServer(handle);
        await server._app.StartAsync();
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseAddress = new Uri(address);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public static Task Json<T>(HttpContext context, T value, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(value, ProtocolJson.Options));
    }

    public static Task Error(HttpContext context, int status, string code, string message, string? field = null, int? retryAfterSeconds = null)
    {
        if (retryAfterSeconds is { } seconds)
            context.Response.Headers.RetryAfter = seconds.ToString();
        return Json(context, new ErrorResponse(new ErrorDetail(code, message) { Field = field }), status);
    }

    /// <summary>A future answer whose result is <paramref name="result"/> serialised as the protocol does.</summary>
    public static Task DoneFuture<T>(HttpContext context, string requestId, T result) =>
        Json(context, new FutureResponse(requestId, FutureStatus.Done) { Result = JsonSerializer.SerializeToElement(result, ProtocolJson.Options) });
}
