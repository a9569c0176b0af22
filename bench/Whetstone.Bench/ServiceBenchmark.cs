using System.Diagnostics;
using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>The training service under load: HTTP overhead against the in-process transport,
/// eight concurrent runs against one, and sampling latency with 32 concurrent clients.</summary>
internal static class ServiceBenchmark
{
    const string Model = "30m";

    public static async Task RunAsync(ScalarType dtype)
    {
        var modelDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", Model);
        if (!File.Exists(Path.Combine(modelDirectory, "config.json"))) RandomModelWriter.Write(modelDirectory, RandomModelSpec.Preset(Model));
        ServerOptions Options() => new()
        {
            ModelDirectories = [modelDirectory],
            DataDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", "service", Guid.NewGuid().ToString("N")),
            Urls = ["http://127.0.0.1:0"],
            AdminKey = "bench",
            ComputeDtype = dtype,
        };
        var batch = Enumerable.Range(0, 4).Select(i => Datums.ForCrossEntropy(Enumerable.Range(0, 129).Select(t => 300 + (t * 7 + i) % 5000).ToArray())).ToArray();
        const int steps = 10;

        await using var server = await WhetstoneServer.StartAsync(Options());
        var (_, key) = await AdminKeys.CreateAsync(server.Core.Store, "bench", "bench");
        using var http = ServiceClient.Connect(new Uri(server.Urls[0]), key);
        await using var core = await ServiceCore.CreateAsync(Options());
        using var local = ServiceClient.Connect(await core.InMemoryClientAsync());

        double httpStep = await SecondsPerStepAsync(http, batch, steps);
        double localStep = await SecondsPerStepAsync(local, batch, steps);
        Console.WriteLine($"| step (forward_backward + optim_step, 4×128 tokens) | HTTP {httpStep * 1000:F1} ms | in memory {localStep * 1000:F1} ms | overhead {100 * (httpStep / localStep - 1):F1}% |");

        // Eight runs stepping at once: their forward_backward calls share each cycle's pass.
        double single = 4 * 128 / await SecondsPerStepAsync(http, batch, steps);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SecondsPerStepAsync(http, batch, steps)));
        double eight = 8 * steps * 4 * 128 / clock.Elapsed.TotalSeconds;
        using var admin = ServiceClient.Connect(new Uri(server.Urls[0]), "bench");
        var cycles = (await admin.CreateRestClient().GetMetricsAsync()).BaseModels.Single().RecentCycles.Where(c => c.LearnerCalls > 0).TakeLast(8 * steps).ToList();
        Console.WriteLine($"| trained tokens/s | 1 run {single:F0} | 8 concurrent runs {eight:F0} | ratio {eight / single:F2}x | runs per learner cycle (last cycles): {string.Join(" ", cycles.TakeLast(12).Select(c => c.LearnerCalls))} |");

        // 32 clients, each sampling 16 tokens from a 32-token prompt, 6 times.
        var session = await http.CreateSamplingClientAsync(baseModel: Model);
        var latencies = new List<double>();
        var prompt = ModelInput.FromTokens(Enumerable.Range(0, 32).Select(t => 400 + t));
        var p = new SamplingParams { MaxTokens = 16, Temperature = 1, Seed = 1 };
        await (await session.SampleAsync(prompt, 1, p)).ResultAsync();
        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            for (int i = 0; i < 6; i++)
            {
                var start = Stopwatch.StartNew();
                await (await session.SampleAsync(prompt, 1, p)).ResultAsync();
                lock (latencies) latencies.Add(start.Elapsed.TotalMilliseconds);
            }
        }));
        latencies.Sort();
        double Percentile(double q) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(q * latencies.Count) - 1)];
        Console.WriteLine($"| sample latency, 32 concurrent clients × 6 requests of 16 tokens | p50 {Percentile(0.5):F0} ms | p99 {Percentile(0.99):F0} ms | {32 * 6 * 16 / clock.Elapsed.TotalSeconds:F0} sampled tokens/s |");
    }

    static async Task<double> SecondsPerStepAsync(ServiceClient client, Datum[] batch, int steps)
    {
        var run = await client.CreateLoraTrainingClientAsync(Model, rank: 32);
        await (await run.ForwardBackwardAsync(batch, "cross_entropy")).ResultAsync();
        await (await run.OptimStepAsync(new AdamParams())).ResultAsync();
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < steps; s++)
        {
            var fb = await run.ForwardBackwardAsync(batch, "cross_entropy");
            var optim = await run.OptimStepAsync(new AdamParams());
            await fb.ResultAsync();
            await optim.ResultAsync();
        }
        return clock.Elapsed.TotalSeconds / steps;
    }
}
