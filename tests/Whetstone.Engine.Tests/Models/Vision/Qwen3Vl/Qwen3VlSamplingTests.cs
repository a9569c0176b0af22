using Whetstone.Engine.Lora;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;
using Whetstone.Engine.Tests.Training;
using static TorchSharp.torch;

namespace Whetstone.Engine.Tests.Models.Vision.Qwen3Vl;

/// <summary>Qwen3-VL image prompts through the sampler (prefill with the tower and deepstack,
/// decode at the M-RoPE offset) and through the learner, with a LoRA adapter on the row.</summary>
public class Qwen3VlSamplingTests
{
    [Fact]
    public void GreedySamplesEqualArgmaxOfFullForwardsWithAndWithoutAnAdapter()
    {
        using var model = PretrainedModel.Load(Qwen3VlTestModels.Write(seed: 2));
        var v = model.Config.Vision!;
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var (prompt, placed) = VisionTestModels.Row(v, [5, 6], VisionTestModels.RandomImage(v, 4, 6, seed: 3), [7]);
        var greedy = new SamplingParams { MaxTokens = 4, Temperature = 0, IgnoreEos = true };
        var request = new SampleRequest(prompt, 1, greedy) { Images = [placed] };
        using var adapter = TrainingTestData.RandomAdapter(model.Network, new LoraConfig { Rank = 2 }, seed: 4);
        foreach (var (r, a) in new[] { (request, (LoraAdapter?)null), (request with { Adapter = adapter }, adapter) })
        {
            var sampled = sampler.Sample(r).Sequences[0].Tokens;
            var sequence = prompt.ToList();
            for (int i = 0; i < 4; i++)
            {
                using var scope = NewDisposeScope();
                using var batch = a is null ? null : new AdapterBatch([a]);
                var hidden = model.Network.ForwardWithImages(tensor(sequence.Select(t => (long)t).ToArray(), [1, sequence.Count]), [[placed]], batch);
                sequence.Add((int)model.Network.Logits(hidden, batch)[0, -1].argmax().item<long>());
            }
            Assert.Equal(sequence.Skip(prompt.Length), sampled);
        }
    }

    [Fact]
    public void ComputeLogprobsWithAnImageMatchesTheLearnerPath()
    {
        using var model = PretrainedModel.Load(Qwen3VlTestModels.Write(seed: 2));
        var v = model.Config.Vision!;
        var (tokens, placed) = VisionTestModels.Row(v, [5], VisionTestModels.RandomImage(v, 2, 4, seed: 8), [7, 8]);
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var logprobs = sampler.ComputeLogprobs(tokens, null, [placed]);
        Assert.NotEqual(sampler.ComputeLogprobs(tokens)[^1], logprobs[^1]);   // the image moves the last logprob
        var datum = new Datum { InputTokens = tokens[..^1], TargetTokens = tokens[1..], Images = [placed], Weights = new float[tokens.Length - 1] };
        var viaLearner = LearnerPass.Run(model.Network, [new LearnerWork(null, [datum]) { Loss = LossSpec.Parse("cross_entropy") }], backward: false)[0].Logprobs[0];
        for (int t = 1; t < tokens.Length; t++) Assert.Equal(viaLearner[t - 1], logprobs[t]!.Value, 1e-5);
    }
}
