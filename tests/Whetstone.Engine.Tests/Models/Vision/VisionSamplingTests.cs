using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Models.Vision;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using Whetstone.Engine.Tests.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision;

/// <summary>Image prompts through the sampler: prefill with the tower, decode with the M-RoPE
/// offset, batched with text prompts and other adapters.</summary>
public class VisionSamplingTests
{
    [Fact]
    public void GreedySamplesEqualArgmaxOfFullForwardsAndMixedBatchesEqualAlone()
    {
        using var model = PretrainedModel.Load(VisionTestModels.Write(seed: 2));
        var v = model.Config.Vision!;
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var (prompt, placed) = VisionTestModels.Row(v, [5, 6], VisionTestModels.RandomImage(v, 4, 6, seed: 3), [7]);
        var greedy = new SamplingParams { MaxTokens = 4, Temperature = 0, IgnoreEos = true };
        var imageRequest = new SampleRequest(prompt, 1, greedy) { Images = [placed] };
        var sampled = sampler.Sample(imageRequest).Sequences[0].Tokens;

        // Reference: full forwards (no cache), one greedy token at a time.
        var sequence = prompt.ToList();
        for (int i = 0; i < 4; i++)
        {
            using var scope = NewDisposeScope();
            var hidden = model.Network.ForwardWithImages(tensor(sequence.Select(t => (long)t).ToArray(), [1, sequence.Count]), [[placed]]);
            sequence.Add((int)model.Network.Logits(hidden)[0, -1].argmax().item<long>());
        }
        Assert.Equal(sequence.Skip(prompt.Length), sampled);

        // With a text prompt and a LoRA adapter on the image row, in one batch.
        using var adapter = TrainingTestData.RandomAdapter(model.Network, new LoraConfig { Rank = 2 }, seed: 4);
        var textRequest = new SampleRequest([9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 1, greedy);
        var adapted = imageRequest with { Adapter = adapter };
        var both = sampler.SampleBatch([adapted, textRequest]);
        Assert.Equal(sampler.Sample(adapted).Sequences[0].Tokens, both[0].Sequences[0].Tokens);
        Assert.Equal(sampler.Sample(textRequest).Sequences[0].Tokens, both[1].Sequences[0].Tokens);
    }

    [Fact]
    public void ComputeLogprobsWithAnImageMatchesTheLearnerPath()
    {
        using var model = PretrainedModel.Load(VisionTestModels.Write(seed: 2));
        var v = model.Config.Vision!;
        var (tokens, placed) = VisionTestModels.Row(v, [5], VisionTestModels.RandomImage(v, 2, 4, seed: 8), [7, 8]);
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var logprobs = sampler.ComputeLogprobs(tokens, null, [placed]);
        var withoutImage = sampler.ComputeLogprobs(tokens);   // pads embedded as text
        Assert.Null(logprobs[0]);
        Assert.NotEqual(withoutImage[^1], logprobs[^1]);
        var datum = new Datum { InputTokens = tokens[..^1], TargetTokens = tokens[1..], Images = [placed], Weights = new float[tokens.Length - 1] };
        var viaLearner = LearnerPass.Run(model.Network, [new LearnerWork(null, [datum]) { Loss = LossSpec.Parse("cross_entropy") }], backward: false)[0].Logprobs[0];
        for (int t = 1; t < tokens.Length; t++) Assert.Equal(viaLearner[t - 1], logprobs[t]!.Value, 1e-5);
    }

    [Fact]
    public void ImagesOnATextModelOrOverTheWrongTokensAreRefusedByField()
    {
        using var model = PretrainedModel.Load(VisionTestModels.Write(seed: 2));
        var v = model.Config.Vision!;
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var image = new PlacedImage(1, VisionTestModels.RandomImage(v, 2, 2, seed: 1));
        var error = Assert.Throws<SamplingArgumentException>(() => sampler.Validate(new SampleRequest([v.VisionStartTokenId, 5, v.VisionEndTokenId], 1, new SamplingParams()) { Images = [image] }));
        Assert.Contains("prompt[1]", error.Message);
        using var text = TestModels.Network(TestModels.Config(ModelFamily.Qwen2));
        var problem = PlacedImageCheck.Problem(text.Config, [1, 2, 3], [image]);
        Assert.Contains("no vision encoder", problem!.Value.Message);
    }
}
