using System.Text.Json;
using Whetstone.Protocol;

namespace Whetstone.Client.Tests;

public class TrainingClientTests
{
    static readonly ForwardBackwardOutput NoOutput = new([], new Dictionary<string, double>());

    [Fact]
    public async Task AForwardBackwardRequestIsSnakeCaseJson()
    {
        await using var server = await FakeTrainingApi.StartAsync(_ => NoOutput);
        using var transport = TestTransports.Http(server);
        var training = await new ServiceClient(transport).CreateLoraTrainingClientAsync("tiny-llama", rank: 8);

        await training.ForwardBackwardAsync([Datums.ForCrossEntropy([1, 2, 3], [0f, 0.5f, 1f])], "ppo",
            new Dictionary<string, double> { ["clip_low_threshold"] = 0.7 });

        var request = server.Requests[1];
        Assert.Equal("/api/v1/training_runs/run-1/forward_backward", request.Path);
        var json = request.Json;
        Assert.Equal("ppo", json.GetProperty("loss_fn").GetString());
        Assert.Equal(0.7, json.GetProperty("loss_fn_config").GetProperty("clip_low_threshold").GetDouble());
        var datum = json.GetProperty("data")[0];
        var chunk = datum.GetProperty("model_input").GetProperty("chunks")[0];
        Assert.Equal("encoded_text", chunk.GetProperty("type").GetString());
        Assert.Equal([1, 2], chunk.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        var inputs = datum.GetProperty("loss_fn_inputs");
        Assert.Equal("int64", inputs.GetProperty("target_tokens").GetProperty("dtype").GetString());
        Assert.Equal([2.0, 3.0], Numbers(inputs.GetProperty("target_tokens")));
        Assert.Equal("float32", inputs.GetProperty("weights").GetProperty("dtype").GetString());
        Assert.Equal([0.5, 1.0], Numbers(inputs.GetProperty("weights")));
    }

    [Fact]
    public async Task CreatingARunSendsItsSettings()
    {
        await using var server = await FakeTrainingApi.StartAsync(_ => NoOutput);
        using var transport = TestTransports.Http(server);

        var training = await new ServiceClient(transport).CreateLoraTrainingClientAsync("tiny-llama", rank: 4, seed: 11,
            trainUnembed: false, userMetadata: new Dictionary<string, string> { ["recipe"] = "sft" });

        Assert.Equal("run-1", training.RunId);
        var json = server.Requests.Single().Json;
        Assert.Equal("tiny-llama", json.GetProperty("base_model").GetString());
        Assert.Equal(4, json.GetProperty("rank").GetInt32());
        Assert.Equal(11, json.GetProperty("seed").GetInt64());
        Assert.True(json.GetProperty("train_attn").GetBoolean());
        Assert.False(json.GetProperty("train_unembed").GetBoolean());
        Assert.Equal("sft", json.GetProperty("user_metadata").GetProperty("recipe").GetString());
    }

    [Fact]
    public async Task SubmissionsGoOutAtCallTimeSoAStepCanBePipelined()
    {
        await using var server = await FakeTrainingApi.StartAsync(id => id.StartsWith("optim_step")
            ? new OptimStepOutput(1, new Dictionary<string, double>())
            : new ForwardBackwardOutput([new LossFnOutput(TensorData.Float32([-0.5f]))], new Dictionary<string, double> { ["loss:sum"] = 0.5 }));
        using var transport = TestTransports.Http(server);
        var training = await new ServiceClient(transport).CreateLoraTrainingClientAsync("tiny-llama");

        var forwardBackward = await training.ForwardBackwardAsync([Datums.ForCrossEntropy([1, 2])], "cross_entropy");
        var step = await training.OptimStepAsync(new AdamParams { LearningRate = 1e-3 });

        // Both submitted, no result asked for yet.
        Assert.Equal(["POST /api/v1/training_runs", "POST /api/v1/training_runs/run-1/forward_backward", "POST /api/v1/training_runs/run-1/optim_step"],
            FakeTrainingApi.Calls(server));
        var adam = server.Requests[2].Json.GetProperty("adam_params");
        Assert.Equal(1e-3, adam.GetProperty("learning_rate").GetDouble());
        Assert.Equal(0.95, adam.GetProperty("beta2").GetDouble());

        Assert.Equal(0.5, (await forwardBackward.ResultAsync()).Metrics["loss:sum"]);
        Assert.Equal(1, (await step.ResultAsync()).Step);
        Assert.Equal("forward_backward-2", forwardBackward.RequestId);
        Assert.Equal("/api/v1/futures/forward_backward-2", server.Requests[3].Path);
    }

    [Fact]
    public async Task CallsStartedWithoutAwaitingAreSentInCallOrder()
    {
        var forwardBackwardAnswered = false;
        bool? optimStepSawItAnswered = null;
        await using var server = await FakeTrainingApi.StartAsync(_ => NoOutput, async (request, _) =>
        {
            if (request.Path.EndsWith("/forward_backward"))
            {
                await Task.Delay(300);
                forwardBackwardAnswered = true;
            }
            if (request.Path.EndsWith("/optim_step"))
                optimStepSawItAnswered = forwardBackwardAnswered;
        });
        using var transport = TestTransports.Http(server);
        var training = await new ServiceClient(transport).CreateLoraTrainingClientAsync("tiny-llama");

        var forwardBackward = training.ForwardBackwardAsync([Datums.ForCrossEntropy([1, 2])], "cross_entropy");
        var step = training.OptimStepAsync(new AdamParams());
        await Task.WhenAll(forwardBackward, step);

        Assert.True(optimStepSawItAnswered, "optim_step was sent before forward_backward was accepted");
    }

    [Fact]
    public async Task ForwardBackwardCustomSendsTheGradientsTheFunctionReturns()
    {
        float[][] learnerLogprobs = [[-1.5f, -0.25f], [-2f]];
        await using var server = await FakeTrainingApi.StartAsync(id => id.StartsWith("forward_backward")
            ? new ForwardBackwardOutput([], new Dictionary<string, double> { ["loss:sum"] = 123 })
            : new ForwardBackwardOutput(learnerLogprobs.Select(l => new LossFnOutput(TensorData.Float32(l))).ToArray(), new Dictionary<string, double>()));
        using var transport = TestTransports.Http(server);
        var training = await new ServiceClient(transport).CreateLoraTrainingClientAsync("tiny-llama");
        IReadOnlyList<float[]>? seen = null;

        var future = await training.ForwardBackwardCustomAsync([Datums.ForCrossEntropy([5, 6, 7]), Datums.ForCrossEntropy([8, 9])], logprobs =>
        {
            seen = logprobs;
            return (-logprobs.Sum(l => l.Sum()), logprobs.Select(l => l.Select(x => 3 * x).ToArray()).ToArray());
        });
        var output = await future.ResultAsync();

        Assert.Equal(learnerLogprobs, seen);
        Assert.Equal(
            ["POST /api/v1/training_runs", "POST /api/v1/training_runs/run-1/forward", "GET /api/v1/futures/forward-2",
             "POST /api/v1/training_runs/run-1/forward_backward", "GET /api/v1/futures/forward_backward-4"],
            FakeTrainingApi.Calls(server));
        var forward = server.Requests[1].Json;
        Assert.Equal("cross_entropy", forward.GetProperty("loss_fn").GetString());
        Assert.Equal([0.0, 0.0], Numbers(forward.GetProperty("data")[0].GetProperty("loss_fn_inputs").GetProperty("weights")));
        var gradientRequest = server.Requests[3].Json;
        Assert.Equal("custom", gradientRequest.GetProperty("loss_fn").GetString());
        var data = gradientRequest.GetProperty("data");
        Assert.Equal([-4.5, -0.75], Numbers(data[0].GetProperty("loss_fn_inputs").GetProperty("logprob_gradients")));
        Assert.Equal([-6.0], Numbers(data[1].GetProperty("loss_fn_inputs").GetProperty("logprob_gradients")));
        Assert.Equal("float32", data[1].GetProperty("loss_fn_inputs").GetProperty("logprob_gradients").GetProperty("dtype").GetString());
        Assert.Equal([6.0, 7.0], Numbers(data[0].GetProperty("loss_fn_inputs").GetProperty("target_tokens")));
        Assert.Equal(3.75, output.Metrics["loss:sum"], 6);
    }

    [Fact]
    public async Task ACustomLossGradientOfTheWrongLengthIsRefusedBeforeItIsSent()
    {
        await using var server = await FakeTrainingApi.StartAsync(_ =>
            new ForwardBackwardOutput([new LossFnOutput(TensorData.Float32([-1f, -2f]))], new Dictionary<string, double>()));
        using var transport = TestTransports.Http(server);
        var training = await new ServiceClient(transport).CreateLoraTrainingClientAsync("tiny-llama");

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            training.ForwardBackwardCustomAsync([Datums.ForCrossEntropy([5, 6, 7])], _ => (0, [new float[3]])));

        Assert.Contains("3 gradients for datum 0, which has 2 logprobs", error.Message);
        Assert.DoesNotContain(server.Requests, r => r.Path.EndsWith("/forward_backward"));
    }

    [Fact]
    public async Task SavingForTheSamplerOpensASamplingClientOnTheSavedPath()
    {
        await using var server = await FakeTrainingApi.StartAsync(_ => new SaveStateOutput("whet://run-1/sampler_weights/step-5"));
        using var transport = TestTransports.Http(server);
        var training = await new ServiceClient(transport).CreateLoraTrainingClientAsync("tiny-llama");

        var sampling = await training.SaveWeightsAndGetSamplingClientAsync("step-5");

        Assert.Equal("session-1", sampling.SessionId);
        Assert.Equal("step-5", server.Requests[1].Json.GetProperty("name").GetString());
        Assert.Equal("whet://run-1/sampler_weights/step-5", server.Requests[3].Json.GetProperty("model_path").GetString());
    }

    static double[] Numbers(JsonElement tensor) => tensor.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
}
