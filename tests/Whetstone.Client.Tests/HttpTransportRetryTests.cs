using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Whetstone.Protocol;

namespace Whetstone.Client.Tests;

public class HttpTransportRetryTests
{
    static readonly HealthResponse Healthy = new("ok", ["tiny-llama"]);

    static Task<HealthResponse> GetHealth(HttpTransport transport, CancellationToken cancellationToken = default) =>
        transport.SendAsync<object, HealthResponse>(HttpMethod.Get, Routes.Health, null, cancellationToken);

    [Fact]
    public async Task RetriesA429AfterTheRetryAfterTheServerAsked()
    {
        await using var server = await ScriptedServer.StartAsync((request, context) => request.Index == 1
            ? ScriptedServer.Error(context, 429, "queue_full", "The queue is full.", retryAfterSeconds: 1)
            : ScriptedServer.Json(context, Healthy));
        // Backoff alone would wait ~10 ms: a wait near 1 s can only come from Retry-After.
        using var transport = TestTransports.Http(server, TestTransports.FastRetries with { MaxDelay = TimeSpan.FromSeconds(5) });

        var clock = Stopwatch.StartNew();
        var health = await GetHealth(transport);

        Assert.Equal("ok", health.Status);
        Assert.Equal(2, server.Requests.Count);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.95, 4);
    }

    [Fact]
    public async Task RetriesA503AndSendsTheSameBodyAgain()
    {
        await using var server = await ScriptedServer.StartAsync((request, context) => request.Index < 3
            ? ScriptedServer.Error(context, 503, "unavailable", "Warming up.")
            : ScriptedServer.Json(context, new TrainingRunInfo("run-1", "tiny-llama")));
        using var transport = TestTransports.Http(server);

        var run = await transport.SendAsync<CreateTrainingRunRequest, TrainingRunInfo>(
            HttpMethod.Post, Routes.TrainingRuns, new CreateTrainingRunRequest("tiny-llama") { Rank = 8 }, default);

        Assert.Equal("run-1", run.RunId);
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal(server.Requests[0].Body, r.Body));
        Assert.Equal(8, server.Requests[2].Json.GetProperty("rank").GetInt32());
    }

    [Fact]
    public async Task RetriesAfterADroppedConnection()
    {
        await using var server = await ScriptedServer.StartAsync((request, context) =>
        {
            if (request.Index == 1)
            {
                context.Abort();
                return Task.CompletedTask;
            }
            return ScriptedServer.Json(context, Healthy);
        });
        using var transport = TestTransports.Http(server);

        var health = await GetHealth(transport);

        Assert.Equal(["tiny-llama"], health.BaseModels);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task BadRequestIsNotRetriedAndCarriesCodeMessageAndField()
    {
        await using var server = await ScriptedServer.StartAsync((_, context) =>
            ScriptedServer.Error(context, 400, "invalid_argument", "weights has 3 values for 4 target tokens.", "data[2].loss_fn_inputs.weights"));
        using var transport = TestTransports.Http(server);

        var error = await Assert.ThrowsAsync<WhetstoneApiException>(() => GetHealth(transport));

        Assert.Single(server.Requests);
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("invalid_argument", error.Code);
        Assert.Equal("weights has 3 values for 4 target tokens.", error.Error.Message);
        Assert.Equal("data[2].loss_fn_inputs.weights", error.Field);
    }

    [Fact]
    public async Task NotFoundIsNotRetried()
    {
        await using var server = await ScriptedServer.StartAsync((_, context) =>
            ScriptedServer.Error(context, 404, "not_found", "No run run-9."));
        using var transport = TestTransports.Http(server);

        var error = await Assert.ThrowsAsync<WhetstoneApiException>(() =>
            transport.SendAsync<object, TrainingRunInfo>(HttpMethod.Get, Routes.TrainingRun("run-9"), null, default));

        Assert.Single(server.Requests);
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("not_found", error.Code);
        Assert.Null(error.Field);
    }

    [Fact]
    public async Task GivesUpAfterMaxAttemptsWithTheLastAnswer()
    {
        await using var server = await ScriptedServer.StartAsync((_, context) =>
        {
            context.Response.StatusCode = 502;
            return context.Response.WriteAsync("<html>bad gateway</html>");
        });
        using var transport = TestTransports.Http(server, TestTransports.FastRetries with { MaxAttempts = 3 });

        var error = await Assert.ThrowsAsync<WhetstoneApiException>(() => GetHealth(transport));

        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Equal("http_502", error.Code);
        Assert.Contains("bad gateway", error.Error.Message);
    }

    [Fact]
    public async Task CancellationDuringABackoffWaitStopsPromptly()
    {
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await ScriptedServer.StartAsync((_, context) =>
        {
            received.TrySetResult();
            return ScriptedServer.Error(context, 503, "unavailable", "Busy.", retryAfterSeconds: 30);
        });
        using var transport = TestTransports.Http(server, TestTransports.FastRetries with { MaxDelay = TimeSpan.FromSeconds(60) });
        using var cancellation = new CancellationTokenSource();

        var call = GetHealth(transport, cancellation.Token);
        await received.Task;
        var clock = Stopwatch.StartNew();
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(200));   // by then the client waits out Retry-After: 30
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.InRange(clock.Elapsed.TotalSeconds, 0.15, 3);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task AnAttemptThatTimesOutIsRetried()
    {
        await using var server = await ScriptedServer.StartAsync(async (request, context) =>
        {
            if (request.Index == 1)
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted).ContinueWith(_ => { });
            else
                await ScriptedServer.Json(context, Healthy);
        });
        using var transport = TestTransports.Http(server, TestTransports.FastRetries with { AttemptTimeout = TimeSpan.FromSeconds(1) });

        var clock = Stopwatch.StartNew();
        var health = await GetHealth(transport);

        Assert.Equal("ok", health.Status);
        Assert.Equal(2, server.Requests.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task TheCallersCancellationDuringAnAttemptIsNotRetried()
    {
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await ScriptedServer.StartAsync((_, context) =>
        {
            received.TrySetResult();
            return Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted).ContinueWith(_ => { });
        });
        using var transport = TestTransports.Http(server);
        using var cancellation = new CancellationTokenSource();

        var call = GetHealth(transport, cancellation.Token);
        await received.Task;
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Task.Delay(100);   // a retry, were there one, would arrive in ~10 ms

        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task EveryRequestCarriesTheApiKeyAsBearer()
    {
        await using var server = await ScriptedServer.StartAsync((request, context) => request.Index == 1
            ? ScriptedServer.Error(context, 500, "internal", "Oops.")
            : ScriptedServer.Json(context, Healthy));
        using var transport = TestTransports.Http(server);

        await GetHealth(transport);

        Assert.Equal(2, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("Bearer test-key", r.Authorization));
    }

    [Fact]
    public async Task ABaseAddressWithAPathPrefixesEveryRoute()
    {
        await using var server = await ScriptedServer.StartAsync((_, context) => ScriptedServer.Json(context, Healthy));
        using var transport = new HttpTransport(new Uri(server.BaseAddress, "/whetstone/"), TestTransports.ApiKey, TestTransports.FastRetries);

        await GetHealth(transport);

        Assert.Equal("/whetstone/healthz", server.Requests.Single().Path);
    }
}
