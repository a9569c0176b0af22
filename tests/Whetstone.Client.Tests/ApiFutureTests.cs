using System.Net;
using Whetstone.Protocol;

namespace Whetstone.Client.Tests;

public class ApiFutureTests
{
    static readonly OptimStepOutput StepResult = new(7, new Dictionary<string, double> { ["grad_norm"] = 0.5 });

    [Fact]
    public async Task LongPollsThroughPendingUntilDone()
    {
        await using var server = await ScriptedServer.StartAsync((request, context) => request.Index < 3
            ? ScriptedServer.Json(context, new FutureResponse("req-1", FutureStatus.Pending))
            : ScriptedServer.DoneFuture(context, "req-1", StepResult));
        using var transport = TestTransports.Http(server);
        var future = new ApiFuture<OptimStepOutput>(transport, "req-1", ApiFuture<OptimStepOutput>.DecodeJson);

        var result = await future.ResultAsync();

        Assert.Equal(7, result.Step);
        Assert.Equal(0.5, result.Metrics["grad_norm"]);
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r =>
        {
            Assert.Equal("GET", r.Method);
            Assert.Equal("/api/v1/futures/req-1", r.Path);
            Assert.Equal("?timeout_seconds=30", r.Query);
        });
    }

    [Fact]
    public async Task TheResultIsFetchedOnceAndKept()
    {
        await using var server = await ScriptedServer.StartAsync((_, context) => ScriptedServer.DoneFuture(context, "req-1", StepResult));
        using var transport = TestTransports.Http(server);
        var future = new ApiFuture<OptimStepOutput>(transport, "req-1", ApiFuture<OptimStepOutput>.DecodeJson);

        var first = await future.ResultAsync();
        var second = await future.ResultAsync();

        Assert.Same(first, second);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task AFailedFutureThrowsItsErrorEveryTime()
    {
        await using var server = await ScriptedServer.StartAsync((_, context) => ScriptedServer.Json(context,
            new FutureResponse("req-2", FutureStatus.Failed) { Error = new ErrorDetail("invalid_argument", "token 99999 is outside the vocabulary") { Field = "data[0].model_input" } }));
        using var transport = TestTransports.Http(server);
        var future = new ApiFuture<OptimStepOutput>(transport, "req-2", ApiFuture<OptimStepOutput>.DecodeJson);

        var error = await Assert.ThrowsAsync<WhetstoneApiException>(() => future.ResultAsync());
        var again = await Assert.ThrowsAsync<WhetstoneApiException>(() => future.ResultAsync());

        Assert.Null(error.StatusCode);
        Assert.Equal("invalid_argument", error.Code);
        Assert.Equal("token 99999 is outside the vocabulary", error.Error.Message);
        Assert.Equal("data[0].model_input", error.Field);
        Assert.Same(error, again);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task AnUnknownFutureIsAnErrorAnswerNotAWait()
    {
        await using var server = await ScriptedServer.StartAsync((_, context) => ScriptedServer.Error(context, 404, "not_found", "No request req-3."));
        using var transport = TestTransports.Http(server);
        var future = new ApiFuture<OptimStepOutput>(transport, "req-3", ApiFuture<OptimStepOutput>.DecodeJson);

        var error = await Assert.ThrowsAsync<WhetstoneApiException>(() => future.ResultAsync());

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Single(server.Requests);
    }
}
