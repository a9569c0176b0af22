using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Engine.ModelMaker;
using Whetstone.Protocol;
using Whetstone.Service.Auth;
using Whetstone.Service.Hosting;
using static TorchSharp.torch;

namespace Whetstone.Bench;

/// <summary>Training and decoding on one base model, each measured alone and next to the other,
/// in the same run on the same server so the ratios compare like with like (issue #13):
/// (a) a run's forward_backward + optim_step while another run samples 4 × 400 tokens (30m);
/// (b) /v1 time to first token while an RL-style job samples rollouts (30m);
/// (c) 8 /v1 chat clients while 8 runs train, and the runs' throughput (whet-nano).</summary>
internal static class InterleaveBenchmark
{
    const string Large = "30m";

    /// <summary><paramref name="parts"/>: which of a, b, c to run; <paramref name="liveChunk"/>: the
    /// learner chunk while live answers wait (<see cref="Whetstone.Service.Scheduling.SchedulingOptions.LiveLearnerTokensPerChunk"/>).</summary>
    public static async Task RunAsync(ScalarType dtype, string nanoDirectory, bool quick, string parts, int? liveChunk)
    {
        var largeDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", Large);
        if (!File.Exists(Path.Combine(largeDirectory, "config.json"))) RandomModelWriter.Write(largeDirectory, RandomModelSpec.Preset(Large));
        var scheduling = new Whetstone.Service.Scheduling.SchedulingOptions();
        if (liveChunk is int chunk) scheduling = scheduling with { LiveLearnerTokensPerChunk = chunk };
        Console.WriteLine($"scheduling: {scheduling}");
        Console.WriteLine();
        if (parts.Contains('a') || parts.Contains('b'))
        await using (var server = await StartAsync(largeDirectory, dtype, scheduling))
        {
            var (sdk, http) = await ClientsAsync(server);
            if (parts.Contains('a')) await StepWhileSamplingAsync(sdk, server, steps: quick ? 3 : 6);
            if (parts.Contains('b')) await FirstTokenWhileRolloutsAsync(sdk, http, requests: quick ? 16 : 40);
        }
        if (parts.Contains('c'))
        await using (var server = await StartAsync(nanoDirectory, dtype, scheduling))
        {
            var (sdk, http) = await ClientsAsync(server);
            await ChatWhileTrainingAsync(sdk, http, Path.GetFileName(nanoDirectory.TrimEnd('/')), TimeSpan.FromSeconds(quick ? 10 : 25), server);
        }
    }

    static Task<WhetstoneServer> StartAsync(string modelDirectory, ScalarType dtype, Whetstone.Service.Scheduling.SchedulingOptions scheduling) =>
        WhetstoneServer.StartAsync(new ServerOptions
    {
        Scheduling = scheduling,
        ModelDirectories = [modelDirectory],
        DataDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", "interleave", Guid.NewGuid().ToString("N")),
        Urls = ["http://127.0.0.1:0"],
        AdminKey = "bench",
        ComputeDtype = dtype,
    });

    static async Task<(ServiceClient Sdk, HttpClient Http)> ClientsAsync(WhetstoneServer server)
    {
        var (_, key) = await AdminKeys.CreateAsync(server.Core.Store, "bench", "bench");
        var http = new HttpClient { BaseAddress = new Uri(server.Urls[0]), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return (ServiceClient.Connect(new Uri(server.Urls[0]), key), http);
    }

    static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    // ---- (a) ----

    // Rounds of A alone, then A while B samples, so a change in the machine's load hits both.
    static async Task StepWhileSamplingAsync(ServiceClient sdk, WhetstoneServer server, int steps)
    {
        var planner = server.Core.Context.Host(Large).Planner;
        var batch = Enumerable.Range(0, 4).Select(i => Datums.ForCrossEntropy(Enumerable.Range(0, 129).Select(t => 300 + (t * 7 + i) % 5000).ToArray())).ToArray();
        var run = await sdk.CreateLoraTrainingClientAsync(Large, rank: 32);
        var session = await sdk.CreateSamplingClientAsync(baseModel: Large);
        var prompt = ModelInput.FromTokens(Enumerable.Range(0, 32).Select(t => 400 + t));
        await StepAsync(run, batch);   // warm up
        var idle = new List<double>();
        var loaded = new List<double>();
        long decoded = 0;
        double decodeSeconds = 0, learnerSeconds = 0, loadedSeconds = 0;
        for (int round = 0; round < 2; round++)
        {
            for (int s = 0; s < steps; s++) idle.Add(await StepAsync(run, batch));
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                    await (await session.SampleAsync(prompt, 4, new SamplingParams { MaxTokens = 400, Temperature = 1, Seed = round * 1000 + i })).ResultAsync();
            });
            await Task.Delay(500);   // B's sample is decoding
            var clock = Stopwatch.StartNew();
            var before = planner.Totals;
            for (int s = 0; s < steps; s++) loaded.Add(await StepAsync(run, batch));
            var after = planner.Totals;
            loadedSeconds += clock.Elapsed.TotalSeconds;
            decoded += after.DecodedTokens - before.DecodedTokens;
            decodeSeconds += after.DecodeSeconds - before.DecodeSeconds;
            learnerSeconds += after.LearnerSeconds - before.LearnerSeconds;
            stop.Cancel();
            await sampler;
        }
        Console.WriteLine($"## (a) run A's step (forward_backward + optim_step, 4×128 tokens, LoRA rank 32) while run B samples 4 × 400 tokens — {Large}, 2 rounds of {steps} steps alone then {steps} with B, load {Load()}");
        Console.WriteLine();
        Console.WriteLine("| | median s | max s |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| A alone | {Median(idle):F3} | {idle.Max():F3} |");
        Console.WriteLine($"| A while B samples | {Median(loaded):F3} | {loaded.Max():F3} |");
        Console.WriteLine($"| ratio | **{Median(loaded) / Median(idle):F2}x** | {loaded.Max() / idle.Max():F2}x |");
        Console.WriteLine();
        Console.WriteLine($"During A's steps with B ({loadedSeconds:F1} s): B decoded {decoded} tokens ({decodeSeconds:F1} s decoding, {learnerSeconds:F1} s in learner passes).");
        Console.WriteLine();
    }

    static async Task<double> StepAsync(TrainingClient run, Datum[] batch)
    {
        var clock = Stopwatch.StartNew();
        var fb = await run.ForwardBackwardAsync(batch, "cross_entropy");
        var optim = await run.OptimStepAsync(new AdamParams());
        await fb.ResultAsync();
        await optim.ResultAsync();
        return clock.Elapsed.TotalSeconds;
    }

    // ---- (b) ----

    static async Task FirstTokenWhileRolloutsAsync(ServiceClient sdk, HttpClient http, int requests)
    {
        await StreamAsync(http, Large, 0, 16);   // warm up
        var idle = await FirstTokensAsync(http, requests);
        // An RL job: 8 prompts × 4 samples × 128 tokens a batch, batch after batch, through the SDK.
        var session = await sdk.CreateSamplingClientAsync(baseModel: Large);
        using var stop = new CancellationTokenSource();
        var rollouts = Task.Run(async () =>
        {
            for (int round = 0; !stop.IsCancellationRequested; round++)
            {
                var futures = await Task.WhenAll(Enumerable.Range(0, 8).Select(p => session.SampleAsync(
                    ModelInput.FromTokens(Enumerable.Range(0, 48).Select(t => 600 + t + p)), 4,
                    new SamplingParams { MaxTokens = 128, Temperature = 1, Seed = round * 8 + p })));
                foreach (var f in futures) await f.ResultAsync();
            }
        });
        await Task.Delay(1000);
        var loaded = await FirstTokensAsync(http, requests);
        stop.Cancel();
        await rollouts;
        Console.WriteLine($"## (b) /v1 time to first token (4 clients, 32-token prompts, 16-token streamed completions) while an RL job samples 8 × 4 × 128 tokens a batch — {Large}, load {Load()}");
        Console.WriteLine();
        Console.WriteLine("| | p50 ms | p99 ms |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| /v1 alone | {Percentile(idle, 0.5) * 1000:F0} | {Percentile(idle, 0.99) * 1000:F0} |");
        Console.WriteLine($"| /v1 during rollouts | {Percentile(loaded, 0.5) * 1000:F0} | {Percentile(loaded, 0.99) * 1000:F0} |");
        Console.WriteLine($"| ratio | {Percentile(loaded, 0.5) / Percentile(idle, 0.5):F2}x | **{Percentile(loaded, 0.99) / Percentile(idle, 0.99):F2}x** |");
        Console.WriteLine();
    }

    static async Task<List<double>> FirstTokensAsync(HttpClient http, int requests)
    {
        var firsts = new List<double>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async client =>
        {
            for (int i = client; i < requests; i += 4)
            {
                var first = await StreamAsync(http, Large, i, 16);
                lock (firsts) firsts.Add(first);
            }
        }));
        return firsts;
    }

    static async Task<double> StreamAsync(HttpClient http, string model, int index, int maxTokens)
    {
        var body = JsonSerializer.Serialize(new
        {
            model, prompt = Enumerable.Range(0, 32).Select(t => 400 + t + index).ToArray(), max_tokens = maxTokens, temperature = 1.0, seed = index, stream = true,
        });
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, Routes.OpenAiCompletions) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        while (await reader.ReadLineAsync() is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal)) first ??= clock.Elapsed.TotalSeconds;
        return first ?? clock.Elapsed.TotalSeconds;
    }

    // ---- (c) ----

    static async Task ChatWhileTrainingAsync(ServiceClient sdk, HttpClient http, string model, TimeSpan phase, WhetstoneServer server)
    {
        var runs = new List<TrainingClient>();
        for (int i = 0; i < 8; i++) runs.Add(await sdk.CreateLoraTrainingClientAsync(model, rank: 8, seed: i));
        var batch = Enumerable.Range(0, 4).Select(i => Datums.ForCrossEntropy(Enumerable.Range(0, 129).Select(t => (t * 7 + i) % 700 + 10).ToArray())).ToArray();
        await ChatAsync(http, model, 0);
        await StepAsync(runs[0], batch);

        // Two rounds of: chat alone, training alone, both together — a change in load hits all three.
        var chatAlone = new List<double>();
        var chatLoaded = new List<double>();
        double trainAlone = 0, trainLoaded = 0;
        long tokens = 0;
        for (int round = 0; round < 2; round++)
        {
            chatAlone.AddRange((await ChatLoadAsync(http, model, phase)).Latencies);
            trainAlone += await TrainLoadAsync(runs, batch, phase) / phase.TotalSeconds / 2;
            var chatting = ChatLoadAsync(http, model, phase);
            var training = TrainLoadAsync(runs, batch, phase);
            var (latencies, completion) = await chatting;
            chatLoaded.AddRange(latencies);
            tokens += completion;
            trainLoaded += await training / phase.TotalSeconds / 2;
        }
        var cycles = server.Core.Context.Host(model).Planner.RecentCycles.Where(c => c.LearnerCalls > 0).ToList();

        Console.WriteLine($"## (c) 8 /v1 chat clients (max_tokens 32) while 8 LoRA runs train (forward_backward + optim_step, 4×128 tokens each) — {model}, 2 rounds of {phase.TotalSeconds:F0} s phases, load {Load()}");
        Console.WriteLine();
        Console.WriteLine("| | chat answers | chat p50 s | chat p99 s | trained tokens/s |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine($"| alone | {chatAlone.Count} | {Percentile(chatAlone, 0.5):F3} | {Percentile(chatAlone, 0.99):F3} | {trainAlone:F0} |");
        Console.WriteLine($"| together | {chatLoaded.Count} | {Percentile(chatLoaded, 0.5):F3} | {Percentile(chatLoaded, 0.99):F3} | {trainLoaded:F0} |");
        Console.WriteLine($"| ratio | | **{Percentile(chatLoaded, 0.5) / Percentile(chatAlone, 0.5):F2}x** | **{Percentile(chatLoaded, 0.99) / Percentile(chatAlone, 0.99):F2}x** | **{trainLoaded / trainAlone:F2}x** |");
        Console.WriteLine();
        Console.WriteLine($"Together: {tokens / (double)chatLoaded.Count:F1} completion tokens an answer; last learner cycles served " +
            $"{string.Join(" ", cycles.TakeLast(10).Select(c => string.Join("+", c.RunsPerLearnerPass)))} runs a pass, decode {cycles.TakeLast(20).Sum(c => c.DecodeSeconds) / Math.Max(1e-9, cycles.TakeLast(20).Sum(c => c.Seconds)) * 100:F0}% of their time.");
        Console.WriteLine();
    }

    static async Task<(List<double> Latencies, long Tokens)> ChatLoadAsync(HttpClient http, string model, TimeSpan phase)
    {
        var latencies = new List<double>();
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async client =>
        {
            for (int i = 0; clock.Elapsed < phase; i++)
            {
                var start = Stopwatch.StartNew();
                int completion = await ChatAsync(http, model, client * 1000 + i);
                lock (latencies)
                {
                    latencies.Add(start.Elapsed.TotalSeconds);
                    tokens += completion;
                }
            }
        }));
        return (latencies, tokens);
    }

    static async Task<int> ChatAsync(HttpClient http, string model, int seed)
    {
        var body = JsonSerializer.Serialize(new
        {
            model, max_tokens = 32, temperature = 1.0, seed,
            messages = new[] { new { role = "user", content = $"Write a short story about a fox number {seed % 50}." } },
        });
        using var response = await http.PostAsync(Routes.OpenAiChatCompletions, new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
    }

    // Trained tokens in the phase (steps finished within it).
    static async Task<long> TrainLoadAsync(List<TrainingClient> runs, Datum[] batch, TimeSpan phase)
    {
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(runs.Select(async run =>
        {
            while (clock.Elapsed < phase)
            {
                await StepAsync(run, batch);
                if (clock.Elapsed <= phase) Interlocked.Add(ref tokens, batch.Length * 128L);
            }
        }));
        return tokens;
    }

    static double Median(List<double> values) => Percentile(values, 0.5);

    static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Max(0, Math.Ceiling(q * sorted.Count) - 1))];
    }
}
