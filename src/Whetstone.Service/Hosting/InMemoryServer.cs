using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Whetstone.Service.Auth;

namespace Whetstone.Service.Hosting;

/// <summary>The service's own app (<see cref="WhetstoneApp"/>: routes, middleware, errors) served
/// in memory, without sockets: requests go through the same pipeline as over HTTP, including
/// streamed (SSE) answers and long-polls. For recipes run by the CLI, tests and single-machine
/// scripts; the SDK speaks to it with its ordinary HTTP transport over <see cref="CreateHandler"/>.</summary>
public sealed class InMemoryServer : IAsyncDisposable
{
    /// <summary>The base address of in-memory clients (never resolved: no socket is opened).</summary>
    public static readonly Uri BaseAddress = new("http://whetstone.in-memory/");

    readonly WebApplication _app;
    readonly TestServer _server;

    InMemoryServer(WebApplication app)
    {
        _app = app;
        _server = app.GetTestServer();
    }

    internal static async Task<InMemoryServer> StartAsync(ServiceCore core)
    {
        var app = WhetstoneApp.Build(core, builder => builder.WebHost.UseTestServer());
        await app.StartAsync();
        return new InMemoryServer(app);
    }

    /// <summary>A handler whose requests authenticate like any other: by their bearer API key.</summary>
    public HttpMessageHandler CreateHandler() => _server.CreateHandler();

    /// <summary>A handler whose requests are made as <paramref name="tenant"/> (an admin of it),
    /// with no key: the process that holds the service core is trusted.</summary>
    public HttpMessageHandler CreateHandler(string tenant) => CreateHandler(new Caller(tenant, "in-process:" + tenant, IsAdmin: true));

    /// <summary>A handler whose requests are made as <paramref name="caller"/>, already
    /// authenticated elsewhere (a cluster's gateway relaying a /v1 request to this worker).</summary>
    internal HttpMessageHandler CreateHandler(Caller caller, Action<Microsoft.AspNetCore.Http.HttpContext>? prepare = null) => _server.CreateHandler(http =>
    {
        ApiKeyAuthentication.Authenticate(http, caller);
        prepare?.Invoke(http);
    });

    /// <summary>An HttpClient for <paramref name="tenant"/> (see <see cref="CreateHandler(string)"/>),
    /// with no timeout of its own: long-polls and streams last as long as they need.</summary>
    public HttpClient CreateClient(string tenant) => new(CreateHandler(tenant))
    {
        BaseAddress = BaseAddress,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
