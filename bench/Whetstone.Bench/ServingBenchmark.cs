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

/// <summary>The OpenAI-compatible API under load, over HTTP with streaming: aggregate decode
/// tokens/s of 16 concurrent streams on 16 different adapters against 16 streams on one adapter
/// and against a single stream, and time to first token under that load. All three in the same
/// run on the same server, so the ratios compare like with like.</summary>
internal static class ServingBenchmark
{
    const string Model = "30m";
    const int Streams = 16, MaxTokens = 64, PromptLength = 32;

    sealed record StreamResult(double FirstTokenSeconds, int Tokens);

    public static async Task RunAsync(ScalarType dtype, int rank, int rounds)
    {
        var modelDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", Model);
        if (!File.Exists(Path.Combine(modelDirectory, "config.json"))) RandomModelWriter.Write(modelDirectory, RandomModelSpec.Preset(Model));
        await using var server = await WhetstoneServer.StartAsync(new ServerOptions
        {
            ModelDirectories = [modelDirectory],
            DataDirectory = Path.Combine(Path.GetTempPath(), "whetstone-bench", "serving", Guid.NewGuid().ToString("N")),
            Urls = ["http://127.0.0.1:0"],
            AdminKey = "bench",
            ComputeDtype = dtype,
        });
        var (_, key) = await AdminKeys.CreateAsync(server.Core.Store, "bench", "bench");
        using var sdk = ServiceClient.Connect(new Uri(server.Urls[0]), key);
        using var http = new HttpClient { BaseAddress = new Uri(server.Urls[0]), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);

        // 16 adapters, each trained one step so none is the zero update.
        var adapters = new string[Streams];
        var data = Datums.ForCrossEntropy(Enumerable.Range(0, 64).Select(t => 300 + t * 7 % 5000).ToArray());
        for (int i = 0; i < Streams; i++)
        {
            var run = await sdk.CreateLoraTrainingClientAsync(Model, rank: rank, seed: i);
            await (await run.ForwardBackwardAsync([data], "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 1e-3 })).ResultAsync();
            adapters[i] = (await (await run.SaveWeightsForSamplerAsync("bench")).ResultAsync()).Path;
        }
        // Warm up: every adapter loaded once (first use loads it; the budget holds all 16).
        await Task.WhenAll(adapters.Select((a, i) => StreamAsync(http, a, i)));

        double adapterBytes = server.Core.Adapters.LoadedBytes / (double)Streams;
        long baseBytes = server.Core.Context.Host(Model).Worker.ParameterBytes;
        Console.WriteLine($"LoRA rank {rank}, default targets: one adapter is {adapterBytes / 1e6:F1} MB as served, the base model {baseBytes / 1e6:F1} MB; 16 adapters = {Streams * adapterBytes / baseBytes:F2}× the base model's bytes");
        Console.WriteLine($"{Streams} streams × {MaxTokens} tokens, {PromptLength}-token prompts, streamed over HTTP (SSE); aggregate = sampled tokens ÷ wall time");
        Console.WriteLine();
        Console.WriteLine("| round | 1 stream tok/s | 16 streams, 1 adapter tok/s | 16 streams, 16 adapters tok/s | 16 adapters ÷ 1 adapter | 16 adapters ÷ 1 stream | TTFT p50 / p99 (16 adapters) | TTFT p50 / p99 (1 adapter) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        for (int round = 1; round <= rounds; round++)
        {
            var (single, _) = await LoadAsync(http, [adapters[0]]);
            var (oneAdapter, oneTtft) = await LoadAsync(http, Enumerable.Repeat(adapters[0], Streams).ToArray());
            var (manyAdapters, manyTtft) = await LoadAsync(http, adapters);
            Console.WriteLine($"| {round} | {single:F0} | {oneAdapter:F0} | {manyAdapters:F0} | {manyAdapters / oneAdapter:F2}x | {manyAdapters / single:F2}x " +
                $"| {Percentile(manyTtft, 0.5) * 1000:F0} / {Percentile(manyTtft, 0.99) * 1000:F0} ms | {Percentile(oneTtft, 0.5) * 1000:F0} / {Percentile(oneTtft, 0.99) * 1000:F0} ms |");
        }
    }

    // All streams at once; aggregate tokens/s and each stream's time to first token.
    static async Task<(double TokensPerSecond, List<double> FirstToken)> LoadAsync(HttpClient http, string[] models)
    {
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(models.Select((m, i) => StreamAsync(http, m, i)));
        double seconds = clock.Elapsed.TotalSeconds;
        return (results.Sum(r => r.Tokens) / seconds, results.Select(r => r.FirstTokenSeconds).ToList());
    }

    static async Task<StreamResult> StreamAsync(HttpClient http, string model, int index)
    {
        var body = JsonSerializer.Serialize(new
        {
            model, prompt = Enumerable.Range(0, PromptLength).Select(t => 400 + t + index).ToArray(), max_tokens = MaxTokens,
            temperature = 1.0, seed = index, stream = true, stream_options = new { include_usage = true },
        });
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, Routes.OpenAiCompletions) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        int tokens = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            first ??= clock.Elapsed.TotalSeconds;
            if (line == "data: [DONE]") break;
            using var chunk = JsonDocument.Parse(line["data: ".Length..]);
            if (chunk.RootElement.TryGetProperty("usage", out var usage)) tokens = usage.GetProperty("completion_tokens").GetInt32();
        }
        return new StreamResult(first ?? clock.Elapsed.TotalSeconds, tokens);
    }

    static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(q * sorted.Count) - 1)];
    }
}
