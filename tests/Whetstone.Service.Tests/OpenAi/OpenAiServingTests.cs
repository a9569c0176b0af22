using System.Net;
using System.Text.Json.Nodes;
using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Hosting;
using Whetstone.Service.Tests.EndToEnd;

namespace Whetstone.Service.Tests.OpenAi;

/// <summary>Serving adapters through /v1/completions: each request gets exactly the adapter it
/// names, concurrent requests share decode steps, aliases switch without a restart, clients that
/// leave are cancelled, and adapters are evicted under the memory budget.</summary>
public class OpenAiServingTests
{
    static readonly int[] Prompt = [11, 12, 13, 14, 15, 16];

    static object Completion(string model, int seed, int maxTokens = 12, int n = 1, bool stream = false) => new
    {
        model, prompt = Prompt, max_tokens = maxTokens, temperature = 1.0, seed, n, stream, logprobs = 2,
    };

    static async Task<int[]> SamplerTokensAsync(OpenAiTestClient client, string? modelPath, int seed, int maxTokens = 12, int samples = 1, int sample = 0)
    {
        var sampler = modelPath is null ? await client.Sdk.CreateSamplingClientAsync(baseModel: TestServers.ModelName)
            : await client.Sdk.CreateSamplingClientAsync(modelPath: modelPath);
        var output = await (await sampler.SampleAsync(ModelInput.FromTokens(Prompt), samples,
            new SamplingParams { MaxTokens = maxTokens, Temperature = 1, Seed = seed })).ResultAsync();
        return output.Sequences[sample].Tokens.ToArray();
    }

    static async Task<int[]> ServedTokensAsync(OpenAiTestClient client, JsonObject response, int choice = 0) =>
        OpenAiTestClient.Tokens(await client.LoggedAsync((string)response["id"]!), choice);

    [Fact]
    public async Task FourConcurrentRequestsNamingFourAdaptersEachGetExactlyTheirAdaptersOutput()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "erin");
        var adapters = new string[4];
        for (int i = 0; i < 4; i++) adapters[i] = await client.TrainedAdapterAsync(seed: i + 1);

        // Each alone, through the training API's sampler: the reference.
        var alone = new int[4][];
        for (int i = 0; i < 4; i++) alone[i] = await SamplerTokensAsync(client, adapters[i], seed: 7);
        var baseAlone = await SamplerTokensAsync(client, null, seed: 7);

        // All four and the base model at once, so they share decode steps.
        var calls = adapters.Select(a => client.PostAsync(Routes.OpenAiCompletions, Completion(a, seed: 7)))
            .Append(client.PostAsync(Routes.OpenAiCompletions, Completion(TestServers.ModelName, seed: 7))).ToArray();
        var responses = await Task.WhenAll(calls);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(alone[i], await ServedTokensAsync(client, responses[i]));
            var logged = await client.LoggedAsync((string)responses[i]["id"]!);
            Assert.Equal(adapters[i], (string?)logged["checkpoint_path"]);
        }
        Assert.Equal(baseAlone, await ServedTokensAsync(client, responses[4]));
        // The adapters really differ from each other and from the base model under this seed.
        var distinct = alone.Append(baseAlone).Select(t => string.Join(",", t)).Distinct().Count();
        Assert.True(distinct >= 4, $"only {distinct} distinct outputs among 4 adapters and the base model");

        // The legacy completions shape: text, finish_reason, logprobs with 2 alternatives per token.
        var choice = responses[0]["choices"]![0]!;
        Assert.Equal("text_completion", (string?)responses[0]["object"]);
        int sampled = OpenAiTestClient.Tokens(await client.LoggedAsync((string)responses[0]["id"]!)).Length;
        Assert.InRange(choice["logprobs"]!["tokens"]!.AsArray().Count, sampled - 1, sampled);   // an end-of-sequence token is not shown
        Assert.All(choice["logprobs"]!["top_logprobs"]!.AsArray(), m => Assert.InRange(m!.AsObject().Count, 1, 2));
    }

    [Fact]
    public async Task AFullFineTuningCheckpointIsServedWithItsOwnWeightsAlongsideTheBaseModel()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "gina");
        var run = await client.Sdk.CreateTrainingClientAsync(new CreateTrainingRunRequest(TestServers.ModelName) { FullFineTuning = true, Seed = 2 });
        await (await run.ForwardBackwardAsync([Datums.ForCrossEntropy([.. Prompt, 40, 41, 42, 43])], "cross_entropy")).ResultAsync();
        await (await run.OptimStepAsync(new AdamParams { LearningRate = 1e-2 })).ResultAsync();
        var full = (await (await run.SaveWeightsForSamplerAsync("full")).ResultAsync()).Path;

        var session = await client.Sdk.CreateSamplingClientAsync(modelPath: full);
        var alone = (await (await session.SampleAsync(ModelInput.FromTokens(Prompt), 1,
            new SamplingParams { MaxTokens = 12, Temperature = 1, Seed = 4 })).ResultAsync()).Sequences[0].Tokens.ToArray();
        await session.CloseAsync();
        var baseAlone = await SamplerTokensAsync(client, null, seed: 4);
        Assert.NotEqual(baseAlone, alone);
        // Both at once: two networks decode in the same cycles, each request with its own.
        var responses = await Task.WhenAll(client.PostAsync(Routes.OpenAiCompletions, Completion(full, seed: 4)),
            client.PostAsync(Routes.OpenAiCompletions, Completion(TestServers.ModelName, seed: 4)));
        Assert.Equal(alone, await ServedTokensAsync(client, responses[0]));
        Assert.Equal(baseAlone, await ServedTokensAsync(client, responses[1]));
        Assert.Equal(full, (string?)(await client.LoggedAsync((string)responses[0]["id"]!))["checkpoint_path"]);

        // Deployable like an adapter; once no request or session uses it, the model is released.
        await client.PostAsync(Routes.Deployments, new { name = "whole", checkpoint = full });
        Assert.Equal(alone, await ServedTokensAsync(client, await client.PostAsync(Routes.OpenAiCompletions, Completion("whole@latest", seed: 4))));
        // The handler lets go of the model just after the response is written: allow it a moment.
        for (int i = 0; i < 100 && server.Core.FullModels.Loaded.Count > 0; i++) await Task.Delay(50);
        Assert.Empty(server.Core.FullModels.Loaded);
    }

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task NChoicesShareThePromptAndEachDrawsTheSamplersStreamStreamedOrNot(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await OpenAiTestClient.CreateAsync(server, "frank");
        var adapter = await client.TrainedAdapterAsync(seed: 5);
        var response = await client.PostAsync(Routes.OpenAiCompletions, Completion(adapter, seed: 3, n: 3));
        Assert.Equal(3, response["choices"]!.AsArray().Count);
        for (int s = 0; s < 3; s++)
            Assert.Equal(await SamplerTokensAsync(client, adapter, seed: 3, samples: 3, sample: s), await ServedTokensAsync(client, response, s));

        var events = await client.StreamAsync(Routes.OpenAiCompletions, Completion(adapter, seed: 3, n: 3, stream: true));
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonNode.Parse(e)!.AsObject()).ToList();
        string id = (string)chunks[0]["id"]!;
        Assert.All(chunks, c => Assert.Equal(id, (string?)c["id"]));
        for (int s = 0; s < 3; s++)
        {
            var mine = chunks.Select(c => c["choices"]![0]!).Where(c => (int)c["index"]! == s).ToList();
            Assert.Equal((string?)response["choices"]![s]!["text"], string.Concat(mine.Select(c => (string?)c["text"])));
            Assert.Single(mine, c => c["finish_reason"] is not null);
        }
        Assert.Equal(await ServedTokensAsync(client, response, 2), OpenAiTestClient.Tokens(await client.LoggedAsync(id), 2));
    }

    [Fact]
    public async Task AliasPromoteAndRollbackChangeWhichAdapterAnswersWithoutARestart()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "grace");
        var first = await client.TrainedAdapterAsync(seed: 1);
        var second = await client.TrainedAdapterAsync(seed: 2);
        var firstTokens = string.Join(",", await SamplerTokensAsync(client, first, seed: 9));
        var secondTokens = string.Join(",", await SamplerTokensAsync(client, second, seed: 9));
        Assert.NotEqual(firstTokens, secondTokens);

        async Task<(string Tokens, string? Deployment)> AskAsync(string model)
        {
            var response = await client.PostAsync(Routes.OpenAiCompletions, Completion(model, seed: 9));
            var logged = await client.LoggedAsync((string)response["id"]!);
            return (string.Join(",", OpenAiTestClient.Tokens(logged)), (string?)logged["deployment"]);
        }

        await client.PostAsync(Routes.Deployments, new { name = "helper", checkpoint = first });
        Assert.Equal((firstTokens, "helper@v1"), await AskAsync("helper@latest"));

        var promoted = await client.PostAsync(Routes.DeploymentPromote("helper"), new { checkpoint = second });
        Assert.Equal(2, (int)promoted["current_version"]!);
        Assert.Equal((secondTokens, "helper@v2"), await AskAsync("helper@latest"));
        Assert.Equal((firstTokens, "helper@v1"), await AskAsync("helper@v1"));

        var models = JsonNode.Parse(await client.Http.GetStringAsync(Routes.OpenAiModels))!["data"]!.AsArray().Select(m => (string)m!["id"]!).ToList();
        Assert.Contains(TestServers.ModelName, models);
        Assert.Contains(first, models);
        Assert.Contains("helper@latest", models);
        Assert.Contains("helper@v2", models);

        var rolledBack = await client.PostAsync(Routes.DeploymentRollback("helper"), new { });
        Assert.Equal(1, (int)rolledBack["current_version"]!);
        Assert.Equal(2, rolledBack["versions"]!.AsArray().Count);
        Assert.Equal((firstTokens, "helper@v1"), await AskAsync("helper@latest"));

        // Another tenant cannot use the alias, nor roll it back, nor promote its own name onto this checkpoint.
        using var stranger = await OpenAiTestClient.CreateAsync(server, "mallory");
        var (status, body) = await stranger.PostFailingAsync(Routes.OpenAiCompletions, """{"model": "helper@latest", "prompt": [1, 2]}""");
        Assert.Equal(404, status);
        Assert.Equal("model_not_found", (string?)body["error"]!["code"]);
        Assert.Equal(404, (await stranger.PostFailingAsync(Routes.DeploymentRollback("helper"), "{}")).Status);
        Assert.Equal(404, (await stranger.PostFailingAsync(Routes.Deployments, $$"""{"name": "mine", "checkpoint": "{{first}}"}""")).Status);
        Assert.Equal(404, (await stranger.PostFailingAsync(Routes.OpenAiCompletions, $$"""{"model": "{{first}}", "prompt": [1, 2]}""")).Status);
        Assert.Empty(JsonNode.Parse(await stranger.Http.GetStringAsync(Routes.Deployments))!["deployments"]!.AsArray());
        // Rolling back past the first version is refused and changes nothing.
        Assert.Equal(400, (await client.PostFailingAsync(Routes.DeploymentRollback("helper"), "{}")).Status);
        Assert.Equal(1, (int)JsonNode.Parse(await client.Http.GetStringAsync(Routes.Deployment("helper")))!["current_version"]!);
    }

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task AClientThatLeavesMidStreamIsCancelledAndLogged(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        using var client = await OpenAiTestClient.CreateAsync(server, "heidi");
        var body = System.Text.Json.JsonSerializer.Serialize(new
        {
            // 64 samples × 240 tokens: far more decoding than the client waits for.
            model = TestServers.ModelName, prompt = Prompt, max_tokens = 240, temperature = 1.0, seed = 1, stream = true, n = 64,
        });
        // A connection of its own that is not drained for reuse: disposing it closes the socket
        // (in memory, disposing the response aborts the request).
        using (var leaving = transport == Transport.InMemory ? server.Raw(null)
            : new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = client.Http.BaseAddress })
        using (var request = new HttpRequestMessage(HttpMethod.Post, Routes.OpenAiCompletions) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") })
        {
            request.Headers.Authorization = client.Http.DefaultRequestHeaders.Authorization;
            using var response = await leaving.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
        }   // the client goes away after the first event

        JsonObject? logged = null;
        for (int i = 0; i < 200 && logged is null; i++)
        {
            await Task.Delay(50);
            logged = JsonNode.Parse(await client.Http.GetStringAsync(Routes.CompletionLog))!["data"]!.AsArray().SingleOrDefault()?.AsObject();
        }
        Assert.NotNull(logged);
        var choices = logged!["choices"]!.AsArray();
        Assert.Equal(64, choices.Count);
        Assert.Contains(choices, c => (string?)c!["finish_reason"] == "cancelled");
        Assert.All(choices.Where(c => (string?)c!["finish_reason"] == "cancelled"),
            c => Assert.InRange(c!["tokens"]!.AsArray().Count, 1, 239));
    }

    [Fact]
    public async Task AdaptersAreLoadedOnFirstUseAndTheLeastRecentlyUsedIsEvictedUnderTheBudget()
    {
        var data = TestServers.NewDataDirectory();
        // The tiny model's rank-4 adapter is a few KB: a budget of 1 byte holds only the adapter in use.
        await using var server = await WhetstoneServer.StartAsync(TestServers.Options(data) with { AdapterCacheBytes = 1 });
        using var client = await OpenAiTestClient.CreateAsync(server, "ivan");
        var a = await client.TrainedAdapterAsync(seed: 1);
        var b = await client.TrainedAdapterAsync(seed: 2);
        Assert.Empty(server.Core.Adapters.Loaded);
        var expectedA = await SamplerTokensAsync(client, a, seed: 4);
        var expectedB = await SamplerTokensAsync(client, b, seed: 4);

        foreach (var (model, expected) in new[] { (a, expectedA), (b, expectedB), (a, expectedA) })
        {
            var response = await client.PostAsync(Routes.OpenAiCompletions, Completion(model, seed: 4));
            Assert.Equal(expected, await ServedTokensAsync(client, response));
            Assert.Single(server.Core.Adapters.Loaded, k => k.StartsWith(model + "#", StringComparison.Ordinal));
        }

        // A roomy budget keeps both.
        await using var roomy = await WhetstoneServer.StartAsync(TestServers.Options(data) with { AdapterCacheBytes = 1 << 20 });
        using var again = await OpenAiTestClient.CreateAsync(roomy, "ivan");
        await again.PostAsync(Routes.OpenAiCompletions, Completion(a, seed: 4));
        await again.PostAsync(Routes.OpenAiCompletions, Completion(b, seed: 4));
        Assert.Equal(2, roomy.Core.Adapters.Loaded.Count);
    }
}

public class ContinuousBatchingTests
{
    [Fact]
    public async Task AShortRequestJoinsARunningDecodeInsteadOfWaitingForIt()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await OpenAiTestClient.CreateAsync(server, "judy");
        int[] prompt = [21, 22, 23];
        // A seed whose 250-token answer runs to its length (the random model may end early otherwise).
        var sampler = await client.Sdk.CreateSamplingClientAsync(baseModel: TestServers.ModelName);
        int seed = 0;
        for (int s = 1; seed == 0; s++)
        {
            var output = await (await sampler.SampleAsync(ModelInput.FromTokens(prompt), 1, new SamplingParams { MaxTokens = 250, Temperature = 1, Seed = s })).ResultAsync();
            if (output.Sequences[0].Tokens.Count == 250) seed = s;
            Assert.True(s < 50, "no seed in 1..50 runs 250 tokens");
        }

        // 128 samples of 250 tokens: long enough (250 steps of 128 rows) for the rest to happen meanwhile.
        var body = System.Text.Json.JsonSerializer.Serialize(new { model = TestServers.ModelName, prompt, max_tokens = 250, temperature = 1.0, seed, n = 128, stream = true });
        using var request = new HttpRequestMessage(HttpMethod.Post, Routes.OpenAiCompletions) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        using var response = await client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());   // the long answer is decoding

        // Meanwhile: a short request.
        var shortAnswer = await client.PostAsync(Routes.OpenAiCompletions, new { model = TestServers.ModelName, prompt = new[] { 5, 6 }, max_tokens = 3, seed = 1 });
        Assert.Equal("length", (string?)shortAnswer["choices"]![0]!["finish_reason"]);

        var rest = await reader.ReadToEndAsync();
        Assert.EndsWith("data: [DONE]\n\n", rest);
        var all = JsonNode.Parse(await client.Http.GetStringAsync(Routes.CompletionLog))!["data"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var longEntry = all.Single(e => e["choices"]!.AsArray().Count == 128);
        var shortEntry = all.Single(e => (string?)e["id"] == (string?)shortAnswer["id"]);
        static DateTimeOffset End(JsonObject e) => DateTimeOffset.Parse((string)e["created_at"]!).AddSeconds((double)e["latency_seconds"]!);
        // It finished while the long answer was still decoding: it did not wait for it.
        Assert.True(End(shortEntry) < End(longEntry), "the short request waited for the long one");
        var longTokens = OpenAiTestClient.Tokens(longEntry);
        var alone = await (await sampler.SampleAsync(ModelInput.FromTokens(prompt), 128, new SamplingParams { MaxTokens = 250, Temperature = 1, Seed = seed })).ResultAsync();
        Assert.Equal(alone.Sequences[0].Tokens, longTokens);   // sharing its steps changed none of its tokens
    }
}
