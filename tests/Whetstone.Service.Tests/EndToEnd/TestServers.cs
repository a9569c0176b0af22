using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>Real servers on loopback ports over a tiny model made for the tests, each with its own
/// data directory and SQLite database.</summary>
internal static class TestServers
{
    public const string AdminKey = "whet_test_admin_key";
    static readonly Lazy<string> ModelDirectory = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-service-tests", "models", "tiny-qwen3");
        if (!File.Exists(Path.Combine(directory, "config.json")))
            RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 256, Seed = 7 });
        return directory;
    });

    public static string Model => ModelDirectory.Value;
    public const string ModelName = "tiny-qwen3";

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "whetstone-service-tests", "data", Guid.NewGuid().ToString("N"));

    public static ServerOptions Options(string dataDirectory) => new()
    {
        ModelDirectories = [Model],
        DataDirectory = dataDirectory,
        Urls = ["http://127.0.0.1:0"],
        AdminKey = AdminKey,
    };

    /// <summary>A service with a tiny model, over Kestrel on a loopback port or in memory: the
    /// end-to-end tests that take a <see cref="Transport"/> run on both.</summary>
    public static async Task<TestHost> StartAsync(string? dataDirectory = null, Transport transport = Transport.Http)
    {
        var options = Options(dataDirectory ?? NewDataDirectory());
        return transport == Transport.Http
            ? new TestHost(await WhetstoneServer.StartAsync(options), owned: true)
            : await TestHost.InMemoryAsync(options);
    }

    /// <summary>A client of a new tenant with its own key.</summary>
    public static async Task<ServiceClient> ClientAsync(TestHost server, string tenant) => server.Client(await KeyAsync(server, tenant));

    public static async Task<string> KeyAsync(TestHost server, string tenant) =>
        (await AdminKeys.CreateAsync(server.Core.Store, tenant, tenant)).Secret;

    /// <summary>A raw HTTP client with a bearer key, for calls the SDK would not make.</summary>
    public static HttpClient Raw(TestHost server, string key) => server.Raw(key);
}

/// <summary>How a test reaches the service: over HTTP, or through the in-memory server.</summary>
public enum Transport { Http, InMemory }

/// <summary>One service under test and the clients into it. Both transports authenticate by API
/// key, so what a test checks over one it checks over the other.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    readonly WhetstoneServer? _server;
    readonly InMemoryServer? _memory;
    readonly bool _owned;

    public ServiceCore Core { get; }
    public Transport Transport => _server is null ? Transport.InMemory : Transport.Http;
    public Uri BaseAddress => _server is null ? InMemoryServer.BaseAddress : new Uri(_server.Urls[0]);

    public TestHost(WhetstoneServer server, bool owned)
    {
        _server = server;
        _owned = owned;
        Core = server.Core;
    }

    TestHost(ServiceCore core, InMemoryServer memory)
    {
        Core = core;
        _memory = memory;
        _owned = true;
    }

    public static async Task<TestHost> InMemoryAsync(ServerOptions options)
    {
        var core = await ServiceCore.CreateAsync(options);
        await AdminKeys.EnsureAsync(core.Store, options.AdminKey);
        return new TestHost(core, await core.InMemoryAsync());
    }

    /// <summary>Tests that start their own Kestrel server use the same helpers.</summary>
    public static implicit operator TestHost(WhetstoneServer server) => new(server, owned: false);

    /// <summary>An HttpClient into the service sending <paramref name="key"/> (none: anonymous).</summary>
    public HttpClient Raw(string? key)
    {
        var http = _memory is null ? new HttpClient() : new HttpClient(_memory.CreateHandler());
        http.BaseAddress = BaseAddress;
        http.Timeout = Timeout.InfiniteTimeSpan;   // long-polls and streams; tests time out on their own
        if (key is not null) http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>The SDK as <paramref name="key"/>'s tenant.</summary>
    public ServiceClient Client(string key) => ServiceClient.Connect(Raw(key));

    public async ValueTask DisposeAsync()
    {
        if (!_owned) return;
        if (_server is not null) await _server.DisposeAsync();
        else await Core.DisposeAsync();   // stops the in-memory server too
    }
}
