using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using Whetstone.Tokenization;

namespace Whetstone.Bench;

/// <summary>What the reader-scored memory benchmarks (--memory-reader, --memory-scorer) run
/// against: the model given, or a random tiny model with a 4,096-token context (written once under
/// the temp folder); its tokenizer, which counts the budget B; and a server of that model in a
/// fresh data folder with one tenant's key and SDK client.</summary>
internal sealed class MemoryBenchServer : IAsyncDisposable
{
    const string RandomModel = "memory-bench-4k";

    MemoryBenchServer(string modelDirectory, HuggingFaceTokenizer tokenizer, WhetstoneServer server, string key)
    {
        ModelDirectory = modelDirectory;
        ModelName = Path.GetFileName(modelDirectory.TrimEnd('/'));
        Tokenizer = tokenizer;
        Server = server;
        Key = key;
        Sdk = ServiceClient.Connect(new Uri(server.Urls[0]), key);
    }

    public string ModelDirectory { get; }
    /// <summary>The name the server serves the model under (its folder's name).</summary>
    public string ModelName { get; }
    public HuggingFaceTokenizer Tokenizer { get; }
    public WhetstoneServer Server { get; }
    /// <summary>The tenant's API key.</summary>
    public string Key { get; }
    public ServiceClient Sdk { get; }

    /// <param name="modelDirectory">The model that serves; null: the random 4k model.</param>
    /// <param name="benchmark">Names the data folder (whetstone-bench/BENCHMARK/GUID under the temp folder).</param>
    /// <param name="alsoServe">More models the server serves (the model reader), by their folders' names.</param>
    public static async Task<MemoryBenchServer> StartAsync(string? modelDirectory, string benchmark, params string[] alsoServe)
    {
        var directory = modelDirectory is { } given ? Path.GetFullPath(given) : Path.Combine(Path.GetTempPath(), "whetstone-bench", RandomModel);
        if (modelDirectory is null && !File.Exists(Path.Combine(directory, "config.json")))
            RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 64, NumHiddenLayers = 2, IntermediateSize = 128, MaxPositionEmbeddings = 4096, Seed = 3 });
        var tokenizer = HuggingFaceTokenizer.Load(directory);
        var server = await WhetstoneServer.StartAsync(new ServerOptions
        {
            ModelDirectories = [directory, .. alsoServe.Select(Path.GetFullPath)],
            DataDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", benchmark, Guid.NewGuid().ToString("N")),
            Urls = ["http://127.0.0.1:0"],
            AdminKey = "bench",
        });
        var (_, key) = await AdminKeys.CreateAsync(server.Core.Store, "bench", "bench");
        return new MemoryBenchServer(directory, tokenizer, server, key);
    }

    /// <summary>The text's length in the model's tokens.</summary>
    public int Count(string text) => Tokenizer.Encode(text).Count;

    /// <summary>The text's last <paramref name="n"/> tokens, decoded (the whole text when it is no longer).</summary>
    public string LastTokens(string text, int n)
    {
        var tokens = Tokenizer.Encode(text);
        return tokens.Count <= n ? text : Tokenizer.Decode(tokens.Skip(tokens.Count - n));
    }

    public async ValueTask DisposeAsync()
    {
        Sdk.Dispose();
        await Server.DisposeAsync();
    }
}
