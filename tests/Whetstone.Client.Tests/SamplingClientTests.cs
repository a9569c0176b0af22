using Whetstone.Protocol;

namespace Whetstone.Client.Tests;

public class SamplingClientTests
{
    [Fact]
    public async Task SampleSendsThePromptAndParamsAndReturnsTheSequences()
    {
        var sampled = new SampleOutput([new SampledSequence([7, 8], [-0.1, -0.2], "length")]) { PromptLogprobs = [null, -1.0] };
        await using var server = await FakeTrainingApi.StartAsync(_ => sampled);
        using var transport = TestTransports.Http(server);
        var sampling = await new ServiceClient(transport).CreateSamplingClientAsync(baseModel: "tiny-llama");

        var future = await sampling.SampleAsync(ModelInput.FromTokens([1, 2]), 3,
            new SamplingParams { MaxTokens = 2, Temperature = 0.7, StopTokenIds = [0], Seed = 5 }, promptLogprobs: true);
        var output = await future.ResultAsync();

        Assert.Equal("tiny-llama", server.Requests[0].Json.GetProperty("base_model").GetString());
        Assert.False(server.Requests[0].Json.TryGetProperty("model_path", out _));
        var request = server.Requests[1];
        Assert.Equal("/api/v1/sampling_sessions/session-1/sample", request.Path);
        Assert.Equal(3, request.Json.GetProperty("num_samples").GetInt32());
        Assert.True(request.Json.GetProperty("prompt_logprobs").GetBoolean());
        var parameters = request.Json.GetProperty("sampling_params");
        Assert.Equal(2, parameters.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.7, parameters.GetProperty("temperature").GetDouble());
        Assert.Equal(0, parameters.GetProperty("stop_token_ids")[0].GetInt32());
        Assert.Equal([7, 8], output.Sequences.Single().Tokens);
        Assert.Equal("length", output.Sequences.Single().StopReason);
        Assert.Equal([null, -1.0], output.PromptLogprobs!);
    }

    [Fact]
    public async Task ASamplingClientNeedsExactlyOneOfBaseModelAndModelPath()
    {
        await using var server = await FakeTrainingApi.StartAsync(_ => new object());
        using var transport = TestTransports.Http(server);
        var service = new ServiceClient(transport);

        await Assert.ThrowsAsync<ArgumentException>(() => service.CreateSamplingClientAsync());
        await Assert.ThrowsAsync<ArgumentException>(() => service.CreateSamplingClientAsync("tiny-llama", "whet://run-1/sampler_weights/a"));
        Assert.Empty(server.Requests);
    }
}
