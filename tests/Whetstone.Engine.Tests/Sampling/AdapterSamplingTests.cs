using Whetstone.Engine.Lora;
using Whetstone.Engine.ModelMaker;
using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Tests.Training;
using Whetstone.Engine.Training;

namespace Whetstone.Engine.Tests.Sampling;

public class AdapterSamplingTests
{
    [Fact]
    public void SamplerWithAdaptersMixedInOneBatchMatchesEachAloneAndTheLearner()
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, new RandomModelSpec { HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 128, Seed = 4 });
        using var model = PretrainedModel.Load(directory);
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var lora = new LoraConfig { Rank = 4 };
        var adapters = Enumerable.Range(0, 3).Select(i => TrainingTestData.RandomAdapter(model.Network, lora, seed: 30 + i)).ToArray();
        var p = new SamplingParams { MaxTokens = 8, Temperature = 0.9, Seed = 3, IgnoreEos = true };
        int[] prompt = [65, 66, 67, 68];
        LoraAdapter?[] perRequest = [adapters[0], null, adapters[1], adapters[2]];

        var mixed = sampler.SampleBatch(perRequest.Select(a => new SampleRequest(prompt, 2, p) { Adapter = a }).ToArray());
        for (int r = 0; r < perRequest.Length; r++)
        {
            var alone = sampler.Sample(new SampleRequest(prompt, 2, p) { Adapter = perRequest[r] });
            for (int s = 0; s < 2; s++)
            {
                Assert.Equal(alone.Sequences[s].Tokens, mixed[r].Sequences[s].Tokens);
                // The learner's logprobs of the same tokens through the same adapter.
                var sequence = mixed[r].Sequences[s];
                var learner = sampler.ComputeLogprobs(prompt.Concat(sequence.Tokens).ToArray(), perRequest[r]);
                for (int i = 0; i < sequence.Tokens.Count; i++)
                    Assert.Equal(learner[prompt.Length + i]!.Value, sequence.Logprobs[i], 1e-4);
            }
        }
        // Different adapters really give different distributions.
        Assert.NotEqual(mixed[0].Sequences[0].Logprobs, mixed[1].Sequences[0].Logprobs);
        foreach (var a in adapters) a.Dispose();
    }

    [Fact]
    public void TrainingRunForwardLogprobsEqualSamplerLogprobs()
    {
        var directory = TestModels.TempDirectory();
        RandomModelWriter.Write(directory, new RandomModelSpec { Family = ModelFamily.Llama, HiddenSize = 32, NumHiddenLayers = 2, IntermediateSize = 64, MaxPositionEmbeddings = 128, Seed = 5 });
        using var model = PretrainedModel.Load(directory);
        using var run = TrainingRun.FromAdapter(model.Network, TrainingTestData.RandomAdapter(model.Network, new LoraConfig { Rank = 4 }, seed: 2));
        var sampler = new Sampler(model.Network, model.Tokenizer);
        int[] prompt = [72, 105, 33];
        var sample = sampler.Sample(new SampleRequest(prompt, 1, new SamplingParams { MaxTokens = 10, Temperature = 1, Seed = 8, IgnoreEos = true }) { Adapter = run.Adapter }).Sequences[0];
        var full = prompt.Concat(sample.Tokens).ToArray();
        var learner = run.Forward([Datum.ForNextToken(full)], LossSpec.Parse("cross_entropy")).Logprobs[0];
        for (int i = 0; i < sample.Tokens.Count; i++)
            Assert.Equal(learner[prompt.Length - 1 + i], sample.Logprobs[i], 1e-4);
    }
}
