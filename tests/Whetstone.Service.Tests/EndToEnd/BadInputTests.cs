using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.EndToEnd;

public class BadInputTests
{
    static IReadOnlyList<Datum> Batch() => [Datums.ForCrossEntropy([10, 20, 30, 40, 50, 60])];

    [Theory, InlineData(Transport.Http), InlineData(Transport.InMemory)]
    public async Task EveryBadRequestGetsA4xxNamingTheFieldAndChangesNothing(Transport transport)
    {
        await using var server = await TestServers.StartAsync(transport: transport);
        var key = await TestServers.KeyAsync(server, "dave");
        using var client = server.Client(key);
        var run = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 5);
        var reference = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4, seed: 5);
        foreach (var r in new[] { run, reference })
        {
            await (await r.ForwardBackwardAsync(Batch(), "cross_entropy")).ResultAsync();
            await (await r.OptimStepAsync(new AdamParams { LearningRate = 1e-2 })).ResultAsync();
        }
        await (await run.SaveStateAsync("kept")).ResultAsync();
        var checkpointsBefore = (await client.CreateRestClient().ListCheckpointsAsync(run.RunId)).Checkpoints.Select(c => c.Path).ToArray();
        // A gradient accumulated before the bad requests must also survive them.
        await (await run.ForwardBackwardAsync(Batch(), "cross_entropy")).ResultAsync();
        await (await reference.ForwardBackwardAsync(Batch(), "cross_entropy")).ResultAsync();

        using var raw = TestServers.Raw(server, key);
        async Task Refused(string path, object body, string field, HttpStatusCode status = HttpStatusCode.BadRequest)
        {
            var response = await raw.PostAsync(path, JsonContent.Create(body, body.GetType(), options: ProtocolJson.Options));
            Assert.Equal(status, response.StatusCode);
            var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>(ProtocolJson.Options))!.Error;
            Assert.Equal(field, error.Field);
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }
        var fb = Routes.ForwardBackward(run.RunId);
        int vocab = 320;
        await Refused(Routes.TrainingRuns, new CreateTrainingRunRequest("no-such-model"), "base_model");
        await Refused(Routes.TrainingRuns, new CreateTrainingRunRequest(TestServers.ModelName) { Rank = 0 }, "rank");
        await Refused(fb, new ForwardBackwardRequest([Datums.ForCrossEntropy([1, 2, vocab + 5])], "cross_entropy"), "data[0].loss_fn_inputs.target_tokens");
        await Refused(fb, new ForwardBackwardRequest([Datums.ForCrossEntropy(Enumerable.Range(0, 300).ToArray())], "cross_entropy"), "data[0].model_input");
        var shortWeights = Datums.ForCrossEntropy([1, 2, 3, 4]) with { };
        var inputs = new Dictionary<string, TensorData>(shortWeights.LossFnInputs) { ["weights"] = TensorData.Float32([1f]) };
        await Refused(fb, new ForwardBackwardRequest([shortWeights with { LossFnInputs = inputs }], "cross_entropy"), "data[0].loss_fn_inputs.weights");
        var wrongDtype = new Dictionary<string, TensorData>(shortWeights.LossFnInputs) { ["target_tokens"] = new TensorData([1, 2, 3], "float32") };
        await Refused(fb, new ForwardBackwardRequest([shortWeights with { LossFnInputs = wrongDtype }], "cross_entropy"), "data[0].loss_fn_inputs.target_tokens");
        await Refused(fb, new ForwardBackwardRequest(Batch(), "kl_divergence"), "loss_fn");
        await Refused(fb, new ForwardBackwardRequest(Batch(), "ppo"), "data[0].loss_fn_inputs.logprobs");
        var image = new Datum(new ModelInput([new EncodedTextChunk([1, 2]), new ImageChunk("not base64!!", "png")]), Batch()[0].LossFnInputs);
        await Refused(fb, new ForwardBackwardRequest([image], "cross_entropy"), "data[0].model_input.chunks[1].data");
        await Refused(Routes.OptimStep(run.RunId), new OptimStepRequest(new AdamParams { LearningRate = -1 }), "adam_params.learning_rate");
        await Refused(Routes.OptimStep(run.RunId), new OptimStepRequest(new AdamParams { Beta2 = 1.5 }), "adam_params.beta2");
        await Refused(Routes.OptimStep(run.RunId), new OptimStepRequest(new AdamParams { VisionLearningRateScale = -1 }), "adam_params.vision_learning_rate_scale");
        await Refused(Routes.SaveState(run.RunId), new SaveStateRequest("../escape"), "name");
        var malformed = await raw.PostAsync(fb, new StringContent("{\"data\": [{\"model_input\": 5}]}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.NotNull((await malformed.Content.ReadFromJsonAsync<ErrorResponse>(ProtocolJson.Options))!.Error.Field);
        var unauthorized = await server.Raw(null).GetAsync(Routes.TrainingRuns);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);

        // Nothing changed: the next step of the run equals the next step of its twin, and its
        // checkpoints are the same.
        var optimRun = await (await run.OptimStepAsync(new AdamParams { LearningRate = 1e-2 })).ResultAsync();
        var optimReference = await (await reference.OptimStepAsync(new AdamParams { LearningRate = 1e-2 })).ResultAsync();
        Assert.Equal(optimReference.Step, optimRun.Step);
        Assert.Equal(optimReference.Metrics["grad_norm"], optimRun.Metrics["grad_norm"]);
        var lossRun = (await (await run.ForwardAsync(Batch(), "cross_entropy")).ResultAsync()).Metrics["loss:sum"];
        var lossReference = (await (await reference.ForwardAsync(Batch(), "cross_entropy")).ResultAsync()).Metrics["loss:sum"];
        Assert.Equal(lossReference, lossRun);
        Assert.Equal(checkpointsBefore, (await client.CreateRestClient().ListCheckpointsAsync(run.RunId)).Checkpoints.Select(c => c.Path).ToArray());
    }
}
