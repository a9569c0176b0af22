using Whetstone.Client;
using Whetstone.Protocol;
using Whetstone.Service.Tests.EndToEnd;
using Whetstone.Service.Tests.Images;

namespace Whetstone.Service.Tests.Vision;

/// <summary>Images through the training API end to end: a LoRA run learns on image prompts,
/// samples and logprobs see the image, and a bad image is a 400 that leaves the run untouched.</summary>
public class VisionTrainingApiTests
{
    // A 112 × 56 image takes 4 × 2 = 8 tokens, a 112 × 84 one 4 × 3 = 12.
    static ModelInput Prompt(byte[] image, string format, int imageTokens, params int[] after)
    {
        var v = VisionServers.Vision;
        return new ModelInput([new EncodedTextChunk([5, v.VisionStartTokenId]), new ImageChunk(Convert.ToBase64String(image), format, imageTokens),
            new EncodedTextChunk([v.VisionEndTokenId, .. after])]);
    }

    static ModelInput Prompt(byte[] png, params int[] after) => Prompt(png, "png", 8, after);

    /// <summary>Input: 5, start, pads, end, answer[..^1]; each position predicts the next token;
    /// only the answer is trained.</summary>
    static Datum Example(byte[] png, int imageTokens, int[] answer)
    {
        var v = VisionServers.Vision;
        int[] sequence = [5, v.VisionStartTokenId, .. Enumerable.Repeat(v.ImageTokenId, imageTokens), v.VisionEndTokenId, .. answer];
        return new Datum(Prompt(png, "png", imageTokens, answer[..^1]), new Dictionary<string, TensorData>
        {
            ["target_tokens"] = TensorData.Int64(sequence[1..]),
            ["weights"] = TensorData.Float32(sequence[1..].Select((_, i) => i >= sequence.Length - 1 - answer.Length ? 1f : 0f)),
        });
    }

    [Fact]
    public async Task LoraStepsOnImagePromptsLowerTheLossAndBadImagesAreRefusedUntouched()
    {
        await using var server = await VisionServers.StartAsync();
        using var client = await TestServers.ClientAsync(server, "alice");
        var training = await client.CreateLoraTrainingClientAsync(VisionServers.ModelName, rank: 4, seed: 3);
        Datum[] data = [Example(TestImages.Png(), 8, [40, 41, 42]), Example(TestImages.Png(112, 84), 12, [50, 51, 52])];

        var losses = new List<double>();
        for (int step = 0; step < 3; step++)
        {
            var fb = await training.ForwardBackwardAsync(data, "cross_entropy");
            var optim = await training.OptimStepAsync(new AdamParams { LearningRate = 2e-2 });
            losses.Add((await fb.ResultAsync()).Metrics["loss:sum"]);
            await optim.ResultAsync();
        }
        Assert.True(losses[2] < losses[0] - 0.1, $"loss did not fall: {string.Join(", ", losses)}");

        double before = (await (await training.ForwardAsync(data, "cross_entropy")).ResultAsync()).Metrics["loss:sum"];
        var png = TestImages.Png();
        var truncated = new Datum(Prompt(png[..(png.Length / 2)], 40, 41), data[0].LossFnInputs);
        var refused = await Assert.ThrowsAsync<WhetstoneApiException>(() => training.ForwardBackwardAsync([data[0], truncated], "cross_entropy"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("data[1].model_input.chunks[1].data", refused.Field);
        var mismatch = new Datum(new ModelInput([data[0].ModelInput.Chunks[0], new ImageChunk(Convert.ToBase64String(png), "png", 9), data[0].ModelInput.Chunks[2]]), data[0].LossFnInputs);
        refused = await Assert.ThrowsAsync<WhetstoneApiException>(() => training.ForwardBackwardAsync([mismatch], "cross_entropy"));
        Assert.Equal("data[0].model_input.chunks[1].expected_tokens", refused.Field);
        // Nothing was queued: no gradient was added, so the next step's loss is the one before.
        double after = (await (await training.ForwardAsync(data, "cross_entropy")).ResultAsync()).Metrics["loss:sum"];
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task SamplingAndLogprobsSeeTheImageAndATextModelRefusesIt()
    {
        await using var server = await VisionServers.StartAsync();
        using var client = await TestServers.ClientAsync(server, "bob");
        var sampler = await client.CreateSamplingClientAsync(baseModel: VisionServers.ModelName);
        var prompt = Prompt(TestImages.Png(), 40);
        var sample = await (await sampler.SampleAsync(prompt, 1, new SamplingParams { MaxTokens = 4, Temperature = 0, Seed = 1 })).ResultAsync();
        Assert.NotEmpty(sample.Sequences[0].Tokens);

        var logprobs = (await (await sampler.ComputeLogprobsAsync(prompt)).ResultAsync()).Logprobs;
        Assert.Equal(2 + 8 + 2, logprobs.Count);
        // Stored 56 × 112 with EXIF 6: seen as 112 × 56, so also 8 tokens, but other pixels.
        var turned = Prompt(TestImages.JpegWithOrientation(56, 112, 6), "jpeg", 8, 40);
        var flipped = (await (await sampler.ComputeLogprobsAsync(turned)).ResultAsync()).Logprobs;
        Assert.Equal(logprobs.Take(2), flipped.Take(2));   // text before the image cannot see it
        Assert.NotEqual(logprobs[^1], flipped[^1]);

        var text = await client.CreateSamplingClientAsync(baseModel: TestServers.ModelName);
        var refused = await Assert.ThrowsAsync<WhetstoneApiException>(() => text.SampleAsync(prompt, 1, new SamplingParams { MaxTokens = 2 }));
        Assert.Equal("prompt.chunks[1]", refused.Field);
        Assert.Contains("no vision encoder", refused.Message);
    }
}
