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

    public static Task<WhetstoneServer> StartAsync(string? dataDirectory = null) => WhetstoneServer.StartAsync(Options(dataDirectory ?? NewDataDirectory()));

    /// <summary>A client of a new tenant with its own key.</summary>
    public static async Task<ServiceClient> ClientAsync(WhetstoneServer server, string tenant) =>
        ServiceClient.Connect(new Uri(server.Urls[0]), await KeyAsync(server, tenant));

    public static async Task<string> KeyAsync(WhetstoneServer server, string tenant) =>
        (await AdminKeys.CreateAsync(server.Core.Store, tenant, tenant)).Secret;

    /// <summary>A raw HTTP client with a bearer key, for calls the SDK would not make.</summary>
    public static HttpClient Raw(WhetstoneServer server, string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(server.Urls[0]) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return http;
    }
}
