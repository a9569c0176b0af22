using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;

namespace Whetstone.Cli.Tests;

/// <summary>A real server on a loopback port over the tiny model, with two tenants' keys, for the
/// `whet run|checkpoint|deployment` commands to talk to; "alice" owns one trained run with a
/// training state and a sampler checkpoint, "bob" owns nothing.</summary>
internal sealed class CliServer : IAsyncDisposable
{
    readonly TempDirectory _data;
    readonly WhetstoneServer _server;

    CliServer(TempDirectory data, WhetstoneServer server, string alice, string bob, TrainingRunInfo run, string state, string sampler)
    {
        (_data, _server, AliceKey, BobKey, Run, StatePath, SamplerPath) = (data, server, alice, bob, run, state, sampler);
    }

    /// <summary>The shipped whet-nano, served too: unlike the random tiny model it answers in text (for `whet chat`).</summary>
    public static string NanoModelDirectory
    {
        get
        {
            var directory = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(directory, "Whetstone.slnx"))) directory = Path.GetDirectoryName(directory)!;
            return Path.Combine(directory, "models", "whet-nano");
        }
    }

    public string Url => _server.Urls[0];
    public string AliceKey { get; }
    public string BobKey { get; }
    /// <summary>Alice's run after its one optimizer step.</summary>
    public TrainingRunInfo Run { get; }
    public string StatePath { get; }
    public string SamplerPath { get; }

    public static async Task<CliServer> StartAsync()
    {
        var data = new TempDirectory();
        var server = await WhetstoneServer.StartAsync(new ServerOptions
        {
            ModelDirectories = [TinyModel.ModelDirectory, NanoModelDirectory], DataDirectory = data.Path, Urls = ["http://127.0.0.1:0"], AdminKey = "whet_cli_server_admin",
            LoopTickInterval = TimeSpan.Zero,
        });
        string alice = (await AdminKeys.CreateAsync(server.Core.Store, "alice", "alice")).Secret;
        string bob = (await AdminKeys.CreateAsync(server.Core.Store, "bob", "bob")).Secret;
        using var client = ServiceClient.Connect(new Uri(server.Urls[0]), alice);
        var run = await client.CreateLoraTrainingClientAsync(Path.GetFileName(TinyModel.ModelDirectory), rank: 4);
        await run.ForwardBackwardAsync([Datums.ForCrossEntropy([40, 41, 42, 43, 44, 45, 46, 47])], "cross_entropy");
        await (await run.OptimStepAsync(new AdamParams { LearningRate = 1e-2 })).ResultAsync();
        var state = await (await run.SaveStateAsync("s1")).ResultAsync();
        var sampler = await (await run.SaveWeightsForSamplerAsync("v1")).ResultAsync();
        var info = await client.CreateRestClient().GetTrainingRunAsync(run.RunId);
        return new CliServer(data, server, alice, bob, info, state.Path, sampler.Path);
    }

    /// <summary>`whet args… --url U --api-key K`.</summary>
    public WhetOutcome As(string key, params string[] args) => Whet.Run([.. args, "--url", Url, "--api-key", key]);

    /// <summary>Alice's command, which must succeed; its stdout.</summary>
    public string Alice(params string[] args)
    {
        var outcome = As(AliceKey, args);
        Assert.True(outcome.ExitCode == 0, $"whet {string.Join(' ', args)} exited {outcome.ExitCode}: {outcome.Stderr}");
        return outcome.Stdout;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _data.Dispose();
    }
}
