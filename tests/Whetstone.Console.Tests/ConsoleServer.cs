using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;

namespace Whetstone.Console.Tests;

/// <summary>A real server on a loopback port over a tiny random model, with its own data
/// directory: what the browser opens, and the SDK and raw HTTP the tests drive it with.</summary>
internal sealed class ConsoleServer : IAsyncDisposable
{
    public const string ModelName = "tiny-qwen3";
    static readonly Lazy<string> ModelDirectory = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-console-tests", "models", ModelName);
        if (!File.Exists(Path.Combine(directory, "config.json")))
            RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 256, Seed = 7 });
        return directory;
    });

    readonly WhetstoneServer _server;
    ConsoleServer(WhetstoneServer server) => _server = server;

    public Uri BaseAddress => new(_server.Urls[0]);

    /// <param name="loopTick">How often loops are looked at (the server's default when null).</param>
    public static async Task<ConsoleServer> StartAsync(TimeSpan? loopTick = null)
    {
        var options = new ServerOptions
        {
            ModelDirectories = [ModelDirectory.Value],
            DataDirectory = Path.Combine(Path.GetTempPath(), "whetstone-console-tests", "data", Guid.NewGuid().ToString("N")),
            Urls = ["http://127.0.0.1:0"],
            AdminKey = "whet_console_test_admin",
        };
        return new(await WhetstoneServer.StartAsync(loopTick is { } tick ? options with { LoopTickInterval = tick } : options));
    }

    /// <summary>A new API key of <paramref name="tenant"/>.</summary>
    public async Task<string> KeyAsync(string tenant) => (await AdminKeys.CreateAsync(_server.Core.Store, tenant, tenant)).Secret;

    public ServiceClient Sdk(string key) => ServiceClient.Connect(Raw(key));

    /// <summary>An HttpClient into the server sending <paramref name="key"/> (null: none).</summary>
    public HttpClient Raw(string? key)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public static async Task<JsonNode> PostJsonAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
