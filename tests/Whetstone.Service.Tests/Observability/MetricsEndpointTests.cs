using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Service.Tests.OpenAi;

namespace Whetstone.Service.Tests.Observability;

/// <summary>/metrics after real calls: every counter moved by exactly what the calls did, counted
/// by the test from what it sent and what it got back.</summary>
public class MetricsEndpointTests
{
    static readonly int[] Prompt = [11, 12, 13, 14, 15, 16];

    static async Task<PrometheusText> ScrapeAsync(TestHost server)
    {
        using var http = server.Raw(null);   // no key: Prometheus scrapes without one
        var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Counters are recorded as the engine hands a call back, which races the caller's
    /// own wake-up: scrape until <paramref name="name"/> reaches <paramref name="expected"/> (5 s at
    /// most), then the caller asserts the exact value.</summary>
    static async Task<PrometheusText> ScrapeUntilAsync(TestHost server, string name, (string, string)[] labels, double expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            var scrape = await ScrapeAsync(server);
            if (scrape.Sum(name, labels) >= expected || DateTime.UtcNow > deadline) return scrape;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task CountersMoveByExactlyTheTokensStepsAndAdapterLoadsOfRealCalls()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "mallory");
        var silo = ("silo", server.Core.Context.Meter.Silo);
        var model = ("base_model", TestServers.ModelName);
        var before = await ScrapeAsync(server);
        Assert.Equal(1, before.Sum("whetstone_silo_up", silo));

        // Training: 3 steps of two sequences of 10 and 7 tokens; each predicts all but its first token.
        var run = await client.Sdk.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 3);
        for (int step = 0; step < 3; step++)
        {
            var data = new[] { Datums.ForCrossEntropy(Enumerable.Range(5 + step, 10).ToArray()), Datums.ForCrossEntropy(Enumerable.Range(40, 7).ToArray()) };
            await (await run.ForwardBackwardAsync(data, "cross_entropy")).ResultAsync();
            await (await run.OptimStepAsync(new AdamParams { LearningRate = 0.01 })).ResultAsync();
        }
        const long trainedTokens = 3 * (9 + 6);

        // Sampling through the training API: 3 samples of at most 8 tokens.
        var sampler = await run.SaveWeightsAndGetSamplingClientAsync("m");
        var output = await (await sampler.SampleAsync(ModelInput.FromTokens(Prompt), 3, new SamplingParams { MaxTokens = 8, Temperature = 1, Seed = 5 })).ResultAsync();
        long sampled = output.Sequences.Sum(s => (long)s.Tokens.Count);

        // The same adapter served twice on /v1: loaded once (a miss), then found (a hit).
        var adapter = await client.TrainedAdapterAsync(seed: 9);
        var served = new List<JsonObject>();
        for (int i = 0; i < 2; i++)
            served.Add(await client.PostAsync(Routes.OpenAiCompletions, new { model = adapter, prompt = Prompt, max_tokens = 6, temperature = 1.0, seed = i, n = 2 }));
        var servedTokens = new List<int>();
        foreach (var response in served)
        {
            var logged = await client.LoggedAsync((string)response["id"]!);
            for (int c = 0; c < 2; c++) servedTokens.Add(OpenAiTestClient.Tokens(logged, c).Length);
        }
        sampled += servedTokens.Sum();
        // TrainedAdapterAsync trained one 16-token sequence (15 predicted tokens) and stepped once.
        long expectedTrained = trainedTokens + 15;

        var after = await ScrapeUntilAsync(server, "whetstone_sampled_tokens_total", [silo, model], before.Sum("whetstone_sampled_tokens_total", silo, model) + sampled);
        after = await ScrapeUntilAsync(server, "whetstone_optim_steps_total", [silo, model], before.Sum("whetstone_optim_steps_total", silo, model) + 4);
        double Delta(string name) => after.Sum(name, silo, model) - before.Sum(name, silo, model);

        Assert.Equal(sampled, Delta("whetstone_sampled_tokens_total"));
        Assert.Equal(expectedTrained, Delta("whetstone_trained_tokens_total"));
        Assert.Equal(4, Delta("whetstone_optim_steps_total"));
        Assert.Equal(1, Delta("whetstone_adapter_cache_misses_total"));
        Assert.Equal(1, Delta("whetstone_adapter_cache_hits_total"));
        // One time-to-first-token per /v1 request; one gap per token after a choice's first.
        Assert.Equal(2, Delta("whetstone_openai_time_to_first_token_seconds_count"));
        Assert.Equal(servedTokens.Sum(t => t - 1), Delta("whetstone_openai_inter_token_latency_seconds_count"));
        // Every cycle is timed: the histogram's count equals the cycle counter.
        Assert.Equal(after.Sum("whetstone_cycles_total", silo, model), after.Sum("whetstone_cycle_duration_seconds_count", silo, model));
        Assert.True(Delta("whetstone_cycles_total") >= 4);
        Assert.True(after.Has("whetstone_queue_depth", silo, model));
        Assert.True(after.Sum("whetstone_silo_uptime_seconds", silo) > 0);
        Assert.Equal(1, after.Sum("whetstone_silo_base_models", silo));
    }

    [Fact]
    public async Task EachRefused429IsCountedByRoute()
    {
        var options = TestServers.Options(TestServers.NewDataDirectory()) with { QueueCapacity = 2 };
        await using var kestrel = await WhetstoneServer.StartAsync(options);
        TestHost server = kestrel;
        var key = await TestServers.KeyAsync(server, "oscar");
        using var client = server.Client(key);
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 2);
        using var raw = TestServers.Raw(server, key);
        var body = new ForwardBackwardRequest([Datums.ForCrossEntropy(Enumerable.Range(1, 60).ToArray())], "cross_entropy");
        var silo = ("silo", server.Core.Context.Meter.Silo);
        var before = await ScrapeAsync(server);

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ =>
            raw.PostAsync(Routes.Forward(run.RunId), JsonContent.Create(body, options: ProtocolJson.Options))));
        int refused = responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(refused > 0, "the flood never filled the queue");

        var after = await ScrapeAsync(server);
        var labels = new[] { silo, ("code", "queue_full") };
        Assert.Equal(refused, after.Sum("whetstone_http_rejected_total", labels) - before.Sum("whetstone_http_rejected_total", labels));
        Assert.True(after.Has("whetstone_http_rejected_total", silo, ("route", Routes.Forward("{runId}"))),
            string.Join("\n", after.Samples.Where(s => s.Name == "whetstone_http_rejected_total").Select(s => string.Join(",", s.Labels))));
    }
}
