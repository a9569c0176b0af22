using Whetstone.Engine.Models;
using Whetstone.Engine.Sampling;
using Whetstone.Engine.Training;

namespace Whetstone.Engine.Tests.Moe;

/// <summary>Routing through the sampler and the learner: the decode batch records each sample's
/// experts (prompt, then every token it ran), and a learner pass given that routing reproduces
/// the sampler's logprobs, also batched with rows of other lengths and rows without routing.</summary>
public class SamplerRoutingTests
{
    [Fact]
    public void LearnerWithTheSamplersRoutingGivesTheSamplersLogprobs()
    {
        using var model = PretrainedModel.Load(MoeTestModels.Write("kimi-tiny"));
        var sampler = new Sampler(model.Network, model.Tokenizer);
        var parameters = new SamplingParams { MaxTokens = 7, Temperature = 1.0, Seed = 3, IgnoreEos = true };
        int[] shortPrompt = [5, 9, 2], longPrompt = [7, 1, 8, 2, 8, 1, 8, 3];
        var results = sampler.SampleBatch([
            new SampleRequest(shortPrompt, 2, parameters) { IncludeRouting = true },
            new SampleRequest(longPrompt, 1, parameters) { IncludeRouting = true },
            new SampleRequest(longPrompt, 1, parameters)]);
        Assert.Null(results[2].Sequences[0].Routing);   // not asked for

        var sampled = new[] { (shortPrompt, results[0].Sequences[0]), (shortPrompt, results[0].Sequences[1]), (longPrompt, results[1].Sequences[0]) };
        var data = new List<Datum>();
        foreach (var (prompt, sample) in sampled)
        {
            var routing = sample.Routing!;
            Assert.Equal([1, 2], routing.Layers);                                  // layer 0 is dense
            Assert.Equal(4, routing.ExpertsPerToken);
            Assert.Equal(prompt.Length + sample.Tokens.Count - 1, routing.Tokens);  // the last token was never run
            Assert.All(routing.Experts, e => Assert.InRange(e, 0, 15));
            // One token's experts in one layer are distinct.
            Assert.Equal(4, routing.Experts.Take(4).Distinct().Count());
            data.Add(NextToken(prompt, sample) with { Routing = routing });
        }
        // A row without routing shares the pass (its padding and all its slots are the router's).
        data.Add(NextToken(longPrompt, results[2].Sequences[0]));

        var learned = LearnerPass.Run(model.Network, [new LearnerWork(null, data) { Loss = LossSpec.Parse("cross_entropy") }], backward: false)[0].Logprobs;
        for (int i = 0; i < sampled.Length; i++)
        {
            int prompt = sampled[i].Item1.Length;
            var samplerLogprobs = sampled[i].Item2.Logprobs;
            for (int j = 0; j < samplerLogprobs.Count; j++)
                Assert.True(Math.Abs(learned[i][prompt - 1 + j] - samplerLogprobs[j]) < 1e-4,
                    $"sample {i} token {j}: learner {learned[i][prompt - 1 + j]} sampler {samplerLogprobs[j]}");
        }

        // The routing decides: every expert moved by one gives other logprobs.
        var shifted = data[0] with { Routing = data[0].Routing! with { Experts = data[0].Routing!.Experts.Select(e => (e + 1) % 16).ToArray() } };
        var moved = LearnerPass.Run(model.Network, [new LearnerWork(null, [shifted]) { Loss = LossSpec.Parse("cross_entropy") }], backward: false)[0].Logprobs[0];
        Assert.True(moved.Zip(learned[0]).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
    }

    [Fact]
    public void RoutingThatDoesNotFitTheInputIsRefusedNamingTheField()
    {
        using var model = PretrainedModel.Load(MoeTestModels.Write("kimi-tiny"));
        var datum = new Datum { InputTokens = [1, 2, 3], TargetTokens = [2, 3, 4], Weights = [1, 1, 1] };
        var two = new RoutedExperts([1, 2], 4, Enumerable.Repeat(0, 2 * 2 * 4).ToArray());
        var work = new LearnerWork(null, [datum with { Routing = two }]) { Loss = LossSpec.Parse("cross_entropy") };
        var error = Assert.Throws<TrainingArgumentException>(() => LearnerPass.Validate(model.Config, work));
        Assert.Contains("data[0].routed_experts", error.Message);
        Assert.Contains("3 × 2 layers × 4 = 24", error.Message);

        var wrongLayers = new RoutedExperts([0, 1], 4, Enumerable.Repeat(0, 3 * 2 * 4).ToArray());
        error = Assert.Throws<TrainingArgumentException>(() => LearnerPass.Validate(model.Config, work with { Data = [datum with { Routing = wrongLayers }] }));
        Assert.Contains("sparse layers are [1, 2]", error.Message);

        var outside = new RoutedExperts([1, 2], 4, Enumerable.Repeat(16, 3 * 2 * 4).ToArray());
        error = Assert.Throws<TrainingArgumentException>(() => LearnerPass.Validate(model.Config, work with { Data = [datum with { Routing = outside }] }));
        Assert.Contains("experts[0] = 16 is outside [0, 16)", error.Message);
    }

    static Datum NextToken(int[] prompt, SampledSequence sample)
    {
        var tokens = prompt.Concat(sample.Tokens).ToArray();
        return Datum.ForNextToken(tokens);
    }
}
