using System.Net;
using System.Net.Http.Json;
using Whetstone.Client;
using Whetstone.Protocol;

namespace Whetstone.Service.Tests.EndToEnd;

/// <summary>Reward models over HTTP: a value_head run trained with bradley_terry and
/// binary_logistic, scored, saved and restored; every bad request refused naming the field.</summary>
public class RewardModelApiTests
{
    // "Good" sequences end in token 7, "bad" ones in token 9: a difference the head can learn.
    static ModelInput Sequence(int seed, bool good)
    {
        var random = new Random(seed);
        return ModelInput.FromTokens([.. Enumerable.Range(0, 4 + seed % 3).Select(_ => random.Next(20, 200)), good ? 7 : 9]);
    }

    static Datum Whole(ModelInput input, float? label = null) =>
        new(input, label is float l ? new Dictionary<string, TensorData> { ["label"] = TensorData.Float32([l]) } : new Dictionary<string, TensorData>());

    static IReadOnlyList<Datum> Pairs(int first, int count) =>
        Enumerable.Range(first, count).SelectMany(i => new[] { Whole(Sequence(i, good: true)), Whole(Sequence(i, good: false)) }).ToArray();

    /// <summary>Share of [good, bad] pairs whose good sequence scores higher, from the raw scores.</summary>
    static double PairwiseAccuracy(IReadOnlyList<double> scores) =>
        Enumerable.Range(0, scores.Count / 2).Count(p => scores[2 * p] > scores[2 * p + 1]) / (scores.Count / 2.0);

    [Fact]
    public async Task RewardModelLearnsPreferencesScoresAndComesBackFromItsCheckpoint()
    {
        await using var server = await TestServers.StartAsync();
        using var client = await TestServers.ClientAsync(server, "erin");
        var rm = await client.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 2);
        Assert.True((await rm.GetInfoAsync()).ValueHead);

        var heldOut = Pairs(100, 8);
        // 40 more pairs never trained on (training draws pairs 0–99), scored before and after.
        var probe = Pairs(300, 40).Select(d => d.ModelInput).ToArray();
        double probeBefore = PairwiseAccuracy((await (await rm.ScoreAsync(probe)).ResultAsync()).Values);
        var before = await (await rm.ForwardAsync(heldOut, "bradley_terry")).ResultAsync();
        Assert.All(before.LossFnOutputs, o => { Assert.NotNull(o.Value); Assert.Empty(o.Logprobs.Data); });
        for (int step = 0; step < 25; step++)
        {
            var fb = await rm.ForwardBackwardAsync(Pairs(step * 4, 4), "bradley_terry");
            var optim = await rm.OptimStepAsync(new AdamParams { LearningRate = 2e-2 });
            await fb.ResultAsync();
            await optim.ResultAsync();
        }
        var after = await (await rm.ForwardAsync(heldOut, "bradley_terry")).ResultAsync();
        Assert.True(after.Metrics["loss:sum"] < before.Metrics["loss:sum"] / 2, $"held-out loss {before.Metrics["loss:sum"]:F3} → {after.Metrics["loss:sum"]:F3}");
        Assert.Equal(1.0, after.Metrics["accuracy"]);
        double probeAfter = PairwiseAccuracy((await (await rm.ScoreAsync(probe)).ResultAsync()).Values);
        // Measured (seed 2): 0.025 before (the random head happened to prefer token 9), 1.0 after.
        Assert.True(probeAfter >= 0.9, $"pairwise accuracy on 40 untrained pairs {probeBefore:F3} → {probeAfter:F3}; chance is 0.5");

        // score gives the same values as the forward pass, in input order.
        var scores = await (await rm.ScoreAsync(heldOut.Select(d => d.ModelInput).ToArray())).ResultAsync();
        Assert.Equal(after.LossFnOutputs.Select(o => o.Value!.Value), scores.Values);

        // Thumbs up/down train the same head.
        var thumbs = Enumerable.Range(200, 6).Select(i => Whole(Sequence(i, good: i % 2 == 0), i % 2 == 0 ? 1f : 0f)).ToArray();
        var rated = await (await rm.ForwardBackwardAsync(thumbs, "binary_logistic")).ResultAsync();
        Assert.True(rated.Metrics["accuracy"] >= 5.0 / 6);
        await (await rm.OptimStepAsync(new AdamParams { LearningRate = 1e-3 })).ResultAsync();

        // A run made from the saved state scores exactly as the original.
        var state = await (await rm.SaveStateAsync("rm")).ResultAsync();
        var restored = await client.CreateTrainingClientFromStateAsync(state.Path, withOptimizer: true);
        Assert.True((await restored.GetInfoAsync()).ValueHead);
        var original = await (await rm.ScoreAsync(heldOut.Select(d => d.ModelInput).ToArray())).ResultAsync();
        var again = await (await restored.ScoreAsync(heldOut.Select(d => d.ModelInput).ToArray())).ResultAsync();
        Assert.Equal(original.Values, again.Values);

        // Another tenant cannot score with it.
        using var other = await TestServers.ClientAsync(server, "frank");
        var error = await Assert.ThrowsAsync<WhetstoneApiException>(async () =>
            await (await (await other.GetTrainingClientAsync(rm.RunId)).ScoreAsync([Sequence(1, true)])).ResultAsync());
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task BadRewardModelRequestsGetA400NamingTheFieldAndChangeNothing()
    {
        await using var server = await TestServers.StartAsync();
        var key = await TestServers.KeyAsync(server, "gina");
        using var client = server.Client(key);
        var rm = await client.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 3);
        var twin = await client.CreateRewardModelClientAsync(TestServers.ModelName, rank: 4, seed: 3);
        var plain = await client.CreateLoraTrainingClientAsync(TestServers.ModelName, rank: 4);
        foreach (var r in new[] { rm, twin }) await (await r.ForwardBackwardAsync(Pairs(0, 2), "bradley_terry")).ResultAsync();

        using var raw = TestServers.Raw(server, key);
        async Task Refused(string path, object body, string field)
        {
            var response = await raw.PostAsync(path, JsonContent.Create(body, body.GetType(), options: ProtocolJson.Options));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(field, (await response.Content.ReadFromJsonAsync<ErrorResponse>(ProtocolJson.Options))!.Error.Field);
        }
        var fb = Routes.ForwardBackward(rm.RunId);
        await Refused(Routes.TrainingRuns, new CreateTrainingRunRequest(TestServers.ModelName) { ValueHead = true, FullFineTuning = true }, "value_head");
        await Refused(Routes.ForwardBackward(plain.RunId), new ForwardBackwardRequest(Pairs(0, 1), "bradley_terry"), "loss_fn");
        await Refused(Routes.Score(plain.RunId), new ScoreRequest([Sequence(1, true)]), "value_head");
        await Refused(fb, new ForwardBackwardRequest([.. Pairs(0, 1), Whole(Sequence(5, true))], "bradley_terry"), "data");
        await Refused(fb, new ForwardBackwardRequest([Whole(Sequence(1, true))], "binary_logistic"), "data[0].loss_fn_inputs.label");
        await Refused(fb, new ForwardBackwardRequest([Whole(Sequence(1, true), 1f), Whole(Sequence(2, true), 2f)], "binary_logistic"), "data[1].loss_fn_inputs.label");
        await Refused(fb, new ForwardBackwardRequest([Datums.ForCrossEntropy([1, 2, 3]), Datums.ForCrossEntropy([1, 2, 4])], "bradley_terry"), "data[0].loss_fn_inputs.weights");
        await Refused(fb, new ForwardBackwardRequest(Pairs(0, 1), "bradley_terry") { LossFnConfig = new Dictionary<string, double> { ["beta"] = 1 } }, "loss_fn_config.beta");
        await Refused(Routes.Score(rm.RunId), new ScoreRequest([ModelInput.FromTokens([1, 100_000])]), "inputs[0]");
        await Refused(Routes.Score(rm.RunId), new ScoreRequest([]), "inputs");

        // The gradient accumulated before the refusals is intact: one step on each gives equal scores.
        foreach (var r in new[] { rm, twin }) await (await r.OptimStepAsync(new AdamParams { LearningRate = 1e-2 })).ResultAsync();
        var probe = Pairs(50, 3).Select(d => d.ModelInput).ToArray();
        Assert.Equal((await (await twin.ScoreAsync(probe)).ResultAsync()).Values, (await (await rm.ScoreAsync(probe)).ResultAsync()).Values);
    }
}
